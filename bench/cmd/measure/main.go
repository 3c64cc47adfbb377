// Command measure runs a command and measures its wall time, CPU time
// and peak resident set size. The command's output passes through; the
// measurement goes as JSON to the file -o names, or to stderr. The
// harness runs every measured command through it (see
// measure.RunWrapped for why).
//
//	measure [-o FILE] -- COMMAND [ARG...]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/ebpfrepo/ebpfrepo/bench/internal/measure"
)

func main() {
	out := flag.String("o", "", "write the measurement (JSON) to this file instead of stderr")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: measure [-o FILE] -- COMMAND [ARG...]")
		os.Exit(2)
	}
	r, err := measure.Run(context.Background(), flag.Args(), measure.Options{})
	os.Stdout.Write(r.Stdout)
	b, _ := json.Marshal(r)
	if *out != "" {
		if werr := os.WriteFile(*out, b, 0o644); werr != nil {
			fmt.Fprintln(os.Stderr, "measure:", werr)
			os.Exit(1)
		}
	} else {
		fmt.Fprintln(os.Stderr, string(b))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "measure:", err)
		if r.ExitCode > 0 {
			os.Exit(r.ExitCode)
		}
		os.Exit(1)
	}
}
