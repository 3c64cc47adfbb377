// Command gen writes a synthetic repository for the scale harness: N
// package versions (about N/10 names) built from the example packages,
// into REPO_DIR/packages/<name>/<version>/<artifact> of a repository
// made with `ebpfrepo init`, and optionally the equivalent Helm charts.
//
//	gen [-n 10000] [-seed 1] [-charts DIR] REPO_DIR
//	gen -extra K -o DIR
//
// With -extra K it writes only the K-th package outside the plan (a new
// name) into directory DIR, for `ebpfrepo add`, and prints its path.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/ebpfrepo/ebpfrepo/bench/internal/gen"
)

func main() {
	n := flag.Int("n", gen.DefaultN, "package versions")
	seed := flag.Uint64("seed", 1, "seed of every random choice")
	charts := flag.String("charts", "", "also write the equivalent Helm charts into this directory")
	extra := flag.Int("extra", -1, "write only the K-th extra package (see -o)")
	out := flag.String("o", "", "with -extra: the directory to write the artifact into")
	root := flag.String("root", ".", "module root (for the example packages)")
	workers := flag.Int("workers", 0, "parallel writers (0: GOMAXPROCS)")
	flag.Parse()
	if err := run(*root, *n, *seed, *workers, *charts, *extra, *out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(root string, n int, seed uint64, workers int, charts string, extra int, out string, args []string) error {
	ctx := context.Background()
	root, err := gen.FindRoot(root)
	if err != nil {
		return err
	}
	ts, skipped, err := gen.LoadTemplates(ctx, root)
	if err != nil {
		return err
	}
	for _, s := range skipped {
		fmt.Fprintln(os.Stderr, "gen: example not used:", s)
	}
	opts := gen.Options{N: n, Seed: seed, Workers: workers, Templates: ts}
	if extra >= 0 {
		if out == "" {
			return fmt.Errorf("-extra needs -o DIR")
		}
		s, err := gen.Extra(opts, extra)
		if err != nil {
			return err
		}
		p := filepath.Join(out, s.ArtifactName())
		if _, err := gen.WriteFile(p, func(w io.Writer) error { return gen.WriteArtifact(w, s, opts) }); err != nil {
			return err
		}
		fmt.Println(p)
		return nil
	}
	if len(args) != 1 {
		return fmt.Errorf("usage: gen [flags] REPO_DIR (made with ebpfrepo init)")
	}
	start := time.Now()
	st, err := gen.WritePackages(ctx, filepath.Join(args[0], "packages"), opts)
	if err != nil {
		return err
	}
	fmt.Printf("%d artifacts, %.1f MB, in %s\n", st.Files, float64(st.Bytes)/1e6, time.Since(start).Round(time.Millisecond))
	if charts != "" {
		start = time.Now()
		st, err := gen.WriteCharts(ctx, charts, opts)
		if err != nil {
			return err
		}
		fmt.Printf("%d charts, %.1f MB, in %s\n", st.Files, float64(st.Bytes)/1e6, time.Since(start).Round(time.Millisecond))
	}
	return nil
}
