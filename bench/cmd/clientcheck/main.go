// Command clientcheck serves a built repository on 127.0.0.1 and reports,
// as JSON, the HTTP requests and bytes of a cold get of one package and
// of a warm check with nothing new.
//
//	clientcheck -root ROOT.json -name NAME [-platform P] PUBLIC_DIR
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/ebpfrepo/ebpfrepo/bench/internal/clientcheck"
)

func main() {
	root := flag.String("root", "", "root metadata to pin (default PUBLIC_DIR/metadata/1.root.json)")
	name := flag.String("name", "", "package to get")
	platform := flag.String("platform", "jammy", "platform")
	flag.Parse()
	if flag.NArg() != 1 || *name == "" {
		fmt.Fprintln(os.Stderr, "usage: clientcheck [-root ROOT.json] -name NAME [-platform P] PUBLIC_DIR")
		os.Exit(2)
	}
	if *root == "" {
		*root = flag.Arg(0) + "/metadata/1.root.json"
	}
	rb, err := os.ReadFile(*root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "clientcheck:", err)
		os.Exit(1)
	}
	res, err := clientcheck.Run(context.Background(), clientcheck.Options{PublicDir: flag.Arg(0), Root: rb, Name: *name, Platform: *platform})
	if err != nil {
		fmt.Fprintln(os.Stderr, "clientcheck:", err)
		os.Exit(1)
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	fmt.Println(string(b))
}
