package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
	"github.com/ebpfrepo/ebpfrepo/progtest"
	"github.com/spf13/cobra"
)

func init() { registerCommand(newTestCmd) }

// testResult is one element of `test --json`'s results.
type testResult struct {
	Path     string           `json:"path"`
	Package  string           `json:"package,omitempty"` // name@version
	OK       bool             `json:"ok"`
	Error    string           `json:"error,omitempty"` // the path could not be read at all
	Tests    *progtest.Report `json:"tests,omitempty"`
	Problems pkgfmt.Problems  `json:"problems,omitempty"` // errors, and every problem of the test vectors
}

type testOutput struct {
	OK      bool         `json:"ok"`
	Results []testResult `json:"results"`
}

func newTestCmd(g *globals) *cobra.Command {
	var opts pkgfmt.LintOptions
	var memMiB uint64
	cmd := &cobra.Command{
		Use:   "test PATH... [--json] [--timeout D] [--memory MIB]",
		Short: "Run the test vectors of packages through the kernel's BPF_PROG_RUN",
		Long: `Run the [[tests]] of each PATH — a package source directory or a
.tar.gz/.zip artifact — through BPF_PROG_RUN: every program loaded (never
attached) with fresh maps, preloaded as the vector says, run on its
packets in a child process with a time and memory limit, and its verdict,
output packets and map contents compared. Prints a table of pass/fail with
the first difference. Needs root and a BPF-capable kernel: elsewhere every
vector is skipped with the reason. A bad definition (unknown program or
verdict, malformed capture, a key of the wrong size, a program type that
cannot run) is reported as lint reports it.

Exit status 1 when a vector fails or a package has an error. See
docs/package-format.md, "Test vectors".`,
		Args: argsBetween(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Verify = true
			opts.Tests.Memory = memMiB << 20
			out := testOutput{OK: true, Results: []testResult{}}
			for _, p := range args {
				r := testPath(cmd, p, opts)
				out.OK = out.OK && r.OK
				out.Results = append(out.Results, r)
			}
			if g.JSON {
				if err := writeJSON(g.Stdout, out); err != nil {
					return err
				}
			} else {
				printTests(g.Stdout, g.Stderr, out)
			}
			if !out.OK {
				return fmt.Errorf("%w: %w", errValidation, errSilent)
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&opts.Tests.Timeout, "timeout", 10*time.Second, "time limit of one vector (its child process is killed then)")
	cmd.Flags().Uint64Var(&memMiB, "memory", 256, "memory limit of one vector's child process, MiB")
	return cmd
}

func testPath(cmd *cobra.Command, path string, opts pkgfmt.LintOptions) testResult {
	r := testResult{Path: path}
	d, err := pkgfmt.LintPath(cmd.Context(), path, opts)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.Package = d.Manifest.Name + "@" + d.Manifest.Version
	r.Tests = d.Tests
	for _, p := range d.Problems {
		if p.Severity == pkgfmt.SeverityError || strings.HasPrefix(p.Code, "test.") {
			r.Problems = append(r.Problems, p)
		}
	}
	r.OK = len(d.Errors()) == 0 && !d.Tests.Failed()
	return r
}

func printTests(stdout, stderr io.Writer, out testOutput) {
	var pass, fail, skipped, packages int
	for _, r := range out.Results {
		if r.Error != "" {
			fmt.Fprintf(stderr, "error: %s\n", r.Error)
			continue
		}
		packages++
		for _, p := range r.Problems {
			if p.Code != pkgfmt.CodeTestFailed && p.Code != pkgfmt.CodeTestError {
				fmt.Fprintln(stdout, p.String())
			}
		}
		if r.Tests == nil {
			fmt.Fprintf(stdout, "%s: untested: no test vectors could run (see the problems above, and docs/package-format.md)\n", r.Package)
			continue
		}
		fmt.Fprintf(stdout, "%s: %s (%s)\n", r.Package, r.Tests.Summary(), r.Tests.Isolation)
		if r.Tests.Count().Vectors() == 0 {
			fmt.Fprintln(stdout, "    no [[tests]] in its manifest: the package is untested (docs/package-format.md, \"Test vectors\")")
		}
		for _, x := range r.Tests.Results {
			fmt.Fprintln(stdout, testLine(x))
			switch x.Status {
			case progtest.StatusPass:
				pass++
			case progtest.StatusFail, progtest.StatusError:
				fail++
			case progtest.StatusNotRun:
				skipped++
			}
		}
	}
	verdict := "ok"
	if !out.OK {
		verdict = "FAILED"
	}
	fmt.Fprintf(stdout, "%s: %d passed, %d failed, %d skipped, in %d package(s)\n", verdict, pass, fail, skipped, packages)
}

// testLine is one row of the table: status, program, name, and the
// difference, reason or runs.
func testLine(x progtest.Result) string {
	label := map[string]string{progtest.StatusPass: "PASS", progtest.StatusFail: "FAIL", progtest.StatusError: "ERROR",
		progtest.StatusNotRunnable: "N/A", progtest.StatusNotRun: "SKIP"}[x.Status]
	name := x.Name
	if name == "" {
		name = "(no vector)"
	}
	s := fmt.Sprintf("    %-5s %s: %s", label, x.Program, name)
	switch x.Status {
	case progtest.StatusPass:
		s += fmt.Sprintf(" — %s, %d run(s) in %s", x.Got, x.Runs, time.Duration(x.DurationNS).Round(time.Microsecond))
	case progtest.StatusFail:
		s += "\n          " + x.Diff
	default:
		s += "\n          " + x.Reason
	}
	return s
}
