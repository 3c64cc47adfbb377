// Command harness is the scale benchmark behind `make bench`
// (bench/run.sh builds it and the tools it runs). For each repository
// size it generates a synthetic repository and the equivalent Helm
// charts (reused while the generator's inputs are unchanged), then
// measures as subprocesses, each several times: a cold full
// `ebpfrepo build`, a rebuild with nothing changed, `ebpfrepo add` of
// one package and the incremental rebuild, `ebpfrepo timestamp`, the
// floor (bench/cmd/floor: sha256 + gunzip/untar of the same bytes on
// all cores), `helm repo index` full and `--merge` after adding one
// chart; and, in process, the client's traffic for a cold get and a
// warm check. It prints a table and writes RESULTS.md and results.json.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ebpfrepo/ebpfrepo/bench/internal/gen"
	"github.com/ebpfrepo/ebpfrepo/bench/internal/measure"
)

type config struct {
	sizes    []int
	runs     int    // repetitions for the size being measured
	runsList []int  // -runs: one count, or one per size
	out      string // work directory (bench/out)
	results  string // RESULTS.md to write
	bin      string // directory of floor and helm
	ebpfrepo string // the ebpfrepo binary
	helm     string // the helm binary; "" skips helm
	root     string // module root
	seed     uint64
	verbose  bool
	genOnly  bool
}

func main() {
	var cfg config
	var sizes, runs string
	flag.StringVar(&sizes, "sizes", "1000,10000", "comma-separated repository sizes (package versions)")
	flag.StringVar(&runs, "runs", "3", "repetitions of every timed step (medians are reported); a comma-separated list gives one per size")
	flag.StringVar(&cfg.out, "out", "bench/out", "work directory for generated repositories")
	flag.StringVar(&cfg.results, "results", "bench/RESULTS.md", "Markdown report to write")
	flag.StringVar(&cfg.bin, "bin", "bench/out/bin", "directory holding the floor and helm binaries")
	flag.StringVar(&cfg.ebpfrepo, "ebpfrepo", "bin/ebpfrepo", "ebpfrepo binary to measure")
	flag.StringVar(&cfg.helm, "helm", "", `helm binary; default BIN/helm when present, "none" to skip`)
	flag.StringVar(&cfg.root, "root", ".", "module root (for the example packages)")
	flag.Uint64Var(&cfg.seed, "seed", 1, "generator seed")
	flag.BoolVar(&cfg.verbose, "v", false, "show the output of measured commands")
	flag.BoolVar(&cfg.genOnly, "generate-only", false, "generate (or check) the repositories and charts, measure nothing")
	render := flag.String("render", "", "only render RESULTS.md (-results) again from this results.json")
	flag.Parse()
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "harness: -sizes %q: want comma-separated positive integers\n", sizes)
			os.Exit(2)
		}
		cfg.sizes = append(cfg.sizes, n)
	}
	for _, s := range strings.Split(runs, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "harness: -runs %q: want positive integers\n", runs)
			os.Exit(2)
		}
		cfg.runsList = append(cfg.runsList, n)
	}
	if len(cfg.runsList) != 1 && len(cfg.runsList) != len(cfg.sizes) {
		fmt.Fprintf(os.Stderr, "harness: -runs %q: give one count, or one per size (%d)\n", runs, len(cfg.sizes))
		os.Exit(2)
	}
	switch cfg.helm {
	case "none":
		cfg.helm = ""
	case "":
		if p := filepath.Join(cfg.bin, "helm"); isExec(p) {
			cfg.helm = p
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if *render != "" {
		if err := rerender(*render, cfg.results); err != nil {
			fmt.Fprintln(os.Stderr, "harness:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		os.Exit(1)
	}
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// Report is everything one harness run measured (results.json).
type Report struct {
	Machine Machine `json:"machine"`
	// BaselineRSSMiB is the peak RSS measured for `true`: the measuring
	// wrapper's own footprint, included in every RSS below.
	BaselineRSSMiB float64       `json:"baseline_rss_mib"`
	Sizes          []*SizeResult `json:"sizes"`
}

func run(ctx context.Context, cfg config) error {
	var err error
	if cfg.root, err = gen.FindRoot(cfg.root); err != nil {
		return err
	}
	for _, p := range []*string{&cfg.out, &cfg.results, &cfg.bin, &cfg.ebpfrepo} {
		if *p, err = filepath.Abs(*p); err != nil {
			return err
		}
	}
	if cfg.helm != "" {
		if cfg.helm, err = filepath.Abs(cfg.helm); err != nil {
			return err
		}
	}
	if !isExec(cfg.ebpfrepo) {
		return fmt.Errorf("%s: not an executable (build it: go build -o %s ./cmd/ebpfrepo)", cfg.ebpfrepo, cfg.ebpfrepo)
	}
	templates, skipped, err := gen.LoadTemplates(ctx, cfg.root)
	if err != nil {
		return err
	}
	for _, s := range skipped {
		logf("example not used as a template: %s", s)
	}
	emptyTrash(cfg.out) // what an interrupted run left
	defer emptyTrash(cfg.out)
	rep := &Report{Machine: machine(ctx, cfg)}
	if res, err := (runner{cfg: cfg}).run(ctx, "true"); err == nil {
		rep.BaselineRSSMiB = float64(res.MaxRSS) / (1 << 20)
	} else {
		return fmt.Errorf("the measuring wrapper does not work: %w", err)
	}
	for i, n := range cfg.sizes {
		opts := gen.Options{N: n, Seed: cfg.seed, Templates: templates}
		c := cfg
		c.runs = cfg.runsList[min(i, len(cfg.runsList)-1)]
		sr := measureSize(ctx, c, opts)
		rep.Sizes = append(rep.Sizes, sr)
		if ctx.Err() != nil {
			break
		}
	}
	if cfg.genOnly {
		return ctx.Err()
	}
	table := renderTable(rep)
	fmt.Println()
	fmt.Print(table)
	md := renderMarkdown(rep, table)
	if err := writeFile(cfg.results, []byte(md)); err != nil {
		return err
	}
	js, _ := json.MarshalIndent(rep, "", "  ")
	if err := writeFile(filepath.Join(cfg.out, "results.json"), append(js, '\n')); err != nil {
		return err
	}
	fmt.Printf("\nwrote %s and %s\n", cfg.results, filepath.Join(cfg.out, "results.json"))
	return ctx.Err()
}

func writeFile(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// runner measures commands, showing their output only with -v.
type runner struct {
	cfg config
	env []string
}

func (r runner) run(ctx context.Context, args ...string) (measure.Result, error) {
	var stderr io.Writer = io.Discard
	var buf strings.Builder
	if r.cfg.verbose {
		stderr = os.Stderr
	} else {
		stderr = &buf
	}
	res, err := measure.RunWrapped(ctx, filepath.Join(r.cfg.bin, "measure"), args, measure.Options{Env: r.env, Stderr: stderr})
	if err != nil && !r.cfg.verbose {
		out := strings.TrimSpace(buf.String())
		if len(out) > 2000 {
			out = out[:2000] + "…"
		}
		if out != "" {
			err = fmt.Errorf("%w\n%s", err, out)
		}
	}
	return res, err
}

// errList collects the steps that failed, so that one broken step
// leaves the others measured.
type errList []string

func (e *errList) add(step string, err error) bool {
	if err == nil {
		return false
	}
	logf("%s: FAILED: %v", step, err)
	*e = append(*e, fmt.Sprintf("%s: %v", step, firstLine(err.Error())))
	return true
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

var errSkipped = errors.New("skipped")

// rerender writes the Markdown report again from a results.json.
func rerender(resultsJSON, out string) error {
	data, err := os.ReadFile(resultsJSON)
	if err != nil {
		return err
	}
	var rep Report
	if err := json.Unmarshal(data, &rep); err != nil {
		return fmt.Errorf("%s: %w", resultsJSON, err)
	}
	fmt.Print(renderTable(&rep))
	return writeFile(out, []byte(renderMarkdown(&rep, "")))
}
