// Command floor measures the physical floor of a repository build over
// the archives under the given directories: every .tar.gz and .tgz read
// once, hashed with sha256 and fully gunzipped and untarred in the same
// pass, one worker per core. It prints the seconds it took (or, with
// -json, the counts and the duration).
//
//	floor [-workers N] [-json] DIR...
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/ebpfrepo/ebpfrepo/bench/internal/floor"
)

func main() {
	workers := flag.Int("workers", 0, "parallel workers (0: one per core)")
	asJSON := flag.Bool("json", false, "print the result as JSON")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: floor [-workers N] [-json] DIR...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	res, err := floor.Run(context.Background(), flag.Args(), floor.Options{Workers: *workers})
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
	if *asJSON {
		b, _ := json.Marshal(res)
		fmt.Println(string(b))
		return
	}
	fmt.Fprintf(os.Stderr, "floor: %d archives, %.1f MB compressed, %.1f MB unpacked, %d workers\n",
		res.Files, float64(res.Bytes)/1e6, float64(res.Uncompressed)/1e6, res.Workers)
	fmt.Printf("%.3f\n", res.Elapsed.Seconds())
}
