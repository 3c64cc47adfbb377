package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ebpfrepo/ebpfrepo/bpfobj"
	"github.com/ebpfrepo/ebpfrepo/internal/pemcert"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
	"github.com/spf13/cobra"
)

func init() { registerCommand(newLintCmd) }

// lintResult is one element of `lint --json`'s results (docs/lint.md).
type lintResult struct {
	Path        string              `json:"path"`
	OK          bool                `json:"ok"` // no error problems (warnings allowed)
	Errors      int                 `json:"errors"`
	Warnings    int                 `json:"warnings"`
	Error       string              `json:"error,omitempty"` // the path could not be read at all
	Description *pkgfmt.Description `json:"description,omitempty"`
}

// lintOutput is the document `lint --json` prints.
type lintOutput struct {
	OK      bool         `json:"ok"`
	Results []lintResult `json:"results"`
}

func newLintCmd(g *globals) *cobra.Command {
	var opts pkgfmt.LintOptions
	var kernelCerts []string
	cmd := &cobra.Command{
		Use:   "lint PATH... [--json] [--verify] [--kernel-btf FILE]... [--kernel-cert FILE]...",
		Short: "Validate package source directories or artifacts",
		Long: `Validate each PATH — a package source directory or a .tar.gz/.zip artifact —
and report every problem: manifest errors, missing or unparsable objects,
programs that are missing or of another type than declared, GPL-only helpers
under a non-GPL license, l3af chaining without prog array or tail call,
unknown sections, a declared min_kernel below the inferred one.

--verify also loads every program into the running kernel's verifier and
runs the package's test vectors through BPF_PROG_RUN (root);
--kernel-btf FILE checks CO-RE relocations against a kernel's BTF offline.
A [kernel_signature] (signed light-skeleton loader) is verified offline;
--kernel-cert FILE checks its certificate chain too (else a warning).
Exit status 1 when any package has an error. See docs/lint.md.`,
		Args: argsBetween(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, f := range opts.KernelBTF {
				if _, err := os.Stat(f); err != nil {
					return usagef("--kernel-btf: %v", err)
				}
			}
			for _, f := range kernelCerts {
				cs, err := pemcert.ReadFile(f)
				if err != nil {
					return usagef("--kernel-cert: %v", err)
				}
				opts.Kernel = append(opts.Kernel, cs...)
			}
			opts.KernelRequireTrust = len(opts.Kernel) > 0
			out := lintPaths(cmd.Context(), args, opts)
			if g.JSON {
				if err := writeJSON(g.Stdout, out); err != nil {
					return err
				}
			} else {
				printLint(g.Stdout, g.Stderr, out)
			}
			if !out.OK {
				return fmt.Errorf("%w: %w", errValidation, errSilent)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&opts.Verify, "verify", false, "load every program into the running kernel's verifier and run the test vectors (needs root)")
	cmd.Flags().StringArrayVar(&opts.KernelBTF, "kernel-btf", nil, "check CO-RE relocations against this kernel BTF file (repeatable)")
	cmd.Flags().StringArrayVar(&kernelCerts, "kernel-cert", nil, "PEM file of trusted kernel-signing certificates a signed loader must chain to (repeatable)")
	return cmd
}

func lintPaths(ctx context.Context, paths []string, opts pkgfmt.LintOptions) lintOutput {
	out := lintOutput{OK: true, Results: []lintResult{}}
	for _, p := range paths {
		r := lintResult{Path: p}
		d, err := pkgfmt.LintPath(ctx, p, opts)
		if err != nil {
			r.Error = err.Error()
		} else {
			r.Description = d
			for _, pr := range d.Problems {
				if pr.Severity == pkgfmt.SeverityError {
					r.Errors++
				} else {
					r.Warnings++
				}
			}
		}
		r.OK = err == nil && r.Errors == 0
		out.OK = out.OK && r.OK
		out.Results = append(out.Results, r)
	}
	return out
}

func printLint(stdout, stderr io.Writer, out lintOutput) {
	var errs, warns, failed int
	for _, r := range out.Results {
		if r.Error != "" {
			fmt.Fprintf(stderr, "error: %s\n", r.Error)
			failed++
			errs++ // a path that cannot be read is an error too, not "0 error(s)"
			continue
		}
		for _, p := range r.Description.Problems {
			fmt.Fprintln(stdout, p.String())
		}
		if ks := r.Description.KernelSignature; ks != nil && ks.Status != pkgfmt.KernelInvalid {
			fmt.Fprintf(stdout, "%s@%s: %s\n", r.Description.Manifest.Name, r.Description.Manifest.Version, ks.Summary)
			if l := ks.Load; l != nil {
				fmt.Fprintf(stdout, "    loaded on this kernel (%s): %s%s\n", l.Kernel, l.Status, map[bool]string{true: ": " + l.Reason, false: ""}[l.Reason != ""])
			}
		}
		if v := r.Description.Verifier; v != nil {
			fmt.Fprintln(stdout, verifierSummary(r.Description, v))
			for _, p := range v.Programs {
				fmt.Fprintln(stdout, verifierLine(p))
			}
		}
		if ts := r.Description.Tests; ts != nil {
			fmt.Fprintf(stdout, "%s@%s: %s (ebpfrepo test shows each vector)\n", r.Description.Manifest.Name, r.Description.Manifest.Version, ts.Summary())
		}
		if len(r.Description.Problems) == 0 {
			fmt.Fprintf(stdout, "ok: %s@%s: %s\n", r.Description.Manifest.Name, r.Description.Manifest.Version, r.Path)
		}
		errs += r.Errors
		warns += r.Warnings
		if r.Errors > 0 {
			failed++
		}
	}
	fmt.Fprintf(stdout, "%s: %d error(s), %d warning(s); %d of %d package(s) failed\n",
		map[bool]string{true: "ok", false: "FAILED"}[out.OK], errs, warns, failed, len(out.Results))
}

// lintErrors returns a validation error listing a description's errors.
func lintErrors(d *pkgfmt.Description) error {
	var lines []string
	for _, p := range d.Errors() {
		lines = append(lines, p.String())
	}
	return fmt.Errorf("%w: %d error(s):\n%s", errValidation, len(lines), strings.Join(lines, "\n"))
}

// verifierLine is the line `lint --verify` prints per program: its
// status, the instructions the verifier processed and, unless it was
// accepted, why (a rejection's log is in its problem).
func verifierLine(p bpfobj.VerifierResult) string {
	s := fmt.Sprintf("    %s: %s: %s", p.Object, p.Program, p.Status)
	if p.Instructions > 0 {
		s += fmt.Sprintf(", %d instructions processed", p.Instructions)
	}
	if p.Status != bpfobj.VerifierAccepted && p.Reason != "" {
		reason, _, _ := strings.Cut(p.Reason, "\n")
		s += ": " + reason
	}
	return s
}

// verifierSummary is the one line `lint --verify` prints per package:
// how many programs the verifier accepted, rejected, could not run or
// could not judge, with the first reason of the last two.
func verifierSummary(d *pkgfmt.Description, v *bpfobj.VerifierReport) string {
	count := map[string]int{}
	why := map[string]string{}
	for _, p := range v.Programs {
		count[p.Status]++
		if why[p.Status] == "" && p.Reason != "" {
			why[p.Status] = p.Program + ": " + p.Reason
		}
	}
	var parts []string
	for _, st := range []string{bpfobj.VerifierAccepted, bpfobj.VerifierRejected, bpfobj.VerifierNotRun, bpfobj.VerifierInconclusive} {
		if count[st] == 0 {
			continue
		}
		s := fmt.Sprintf("%d %s", count[st], st)
		if (st == bpfobj.VerifierNotRun || st == bpfobj.VerifierInconclusive) && why[st] != "" {
			s += " (" + why[st] + ")"
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		parts = []string{"no programs"}
	}
	return fmt.Sprintf("verifier: %s@%s on %s %s: %s", d.Manifest.Name, d.Manifest.Version, v.Kernel, v.Arch, strings.Join(parts, ", "))
}
