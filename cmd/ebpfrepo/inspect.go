package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ebpfrepo/ebpfrepo/authenticode"
	"github.com/ebpfrepo/ebpfrepo/bpfobj"
	"github.com/spf13/cobra"
)

func init() { registerCommand(newInspectCmd) }

// inspectOutput is what `inspect --json` prints: the object report with
// the minimum-kernel inference for the object alone.
type inspectOutput struct {
	bpfobj.ObjectReport
	Kernel *bpfobj.KernelReport `json:"kernel,omitempty"`
}

func newInspectCmd(g *globals) *cobra.Command {
	var (
		testRoots []string
		platform  string
	)
	cmd := &cobra.Command{
		Use:   "inspect OBJECT.o [--platform Windows] | DRIVER.sys [--test-root PEM...] [--json]",
		Short: "Show the programs, maps, helpers, BTF and license of one eBPF object",
		Long: `Parse one eBPF ELF object (no kernel needed) and show its programs (section,
type, attach type, instructions, helpers, kfuncs, calls, tail calls, maps,
instruction-set extensions),
its maps, BTF and CO-RE relocations, license and the minimum kernel it
needs. The "isa" line of a program lists the instruction-set extensions it
uses (jmp32, atomics, bounded_loops) with the kernel that first accepts
each. The object is named by its file name in the output. With
--platform Windows the object is shown as eBPF for Windows loads it: its
program and attach types (by section), helpers and map types, and what
Windows does not have is an error.

A Windows native driver (.sys) is verified offline instead: its
Authenticode signatures (the authentihash against each signed digest, the
PKCS#7, the chain and the certificates' validity at the signing time), its
class (production-ebpf, test-signed with a --test-root, unsigned) and its
PE sections.`,
		Args: argsBetween(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			fi, err := os.Stat(path)
			if err != nil {
				return err
			}
			if !fi.Mode().IsRegular() {
				return usagef("inspect: %s is not a regular file", path)
			}
			if fi.Size() > bpfobj.MaxObjectSize {
				return fmt.Errorf("%w: object %s: %d bytes, over the %d-byte limit", errValidation, path, fi.Size(), bpfobj.MaxObjectSize)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if strings.HasSuffix(strings.ToLower(path), ".sys") {
				return inspectDriver(g, path, data, testRoots)
			}
			r, err := bpfobj.InspectObject(filepath.Base(path), data)
			if err != nil {
				return fmt.Errorf("%w: %w", errValidation, err)
			}
			out := inspectOutput{ObjectReport: r, Kernel: bpfobj.InferKernel([]bpfobj.ObjectReport{r})}
			switch {
			case strings.EqualFold(platform, "Windows"):
				w, probs := bpfobj.WindowsView(r)
				out = inspectOutput{ObjectReport: w}
				if len(probs) > 0 {
					var msgs []string
					for _, p := range probs {
						msgs = append(msgs, p.String())
					}
					return fmt.Errorf("%w: %s: not an eBPF for Windows object: %s", errValidation, path, strings.Join(msgs, "; "))
				}
			case platform != "" && !strings.EqualFold(platform, "Linux"):
				return usagef("--platform %q: Linux (the default) or Windows", platform)
			}
			if g.JSON {
				return writeJSON(g.Stdout, out)
			}
			printInspect(g.Stdout, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&platform, "platform", "", "Windows: show the object as eBPF for Windows loads it")
	cmd.Flags().StringArrayVar(&testRoots, "test-root", nil, "PEM file of a test root to classify test-signed drivers against (repeatable)")
	return cmd
}

// inspectDriver verifies and describes a Windows native driver.
func inspectDriver(g *globals, path string, data []byte, testRoots []string) error {
	var trust authenticode.Trust
	for _, p := range testRoots {
		pemData, err := os.ReadFile(p)
		if err != nil {
			return usagef("--test-root: %v", err)
		}
		b, _ := pem.Decode(pemData)
		if b == nil {
			return usagef("--test-root %s: no PEM certificate", p)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return usagef("--test-root %s: %v", p, err)
		}
		trust.TestRoots = append(trust.TestRoots, c)
	}
	rep, err := authenticode.Verify(data, trust)
	if err != nil {
		return fmt.Errorf("%w: driver %s: %w", errValidation, path, err)
	}
	sections := authenticode.Sections(data)
	if g.JSON {
		return writeJSON(g.Stdout, struct {
			*authenticode.Report
			Sections []string `json:"sections"`
		}{rep, sections})
	}
	fmt.Fprintf(g.Stdout, "driver %s: %s (verified offline)\n", filepath.Base(path), rep.Class)
	fmt.Fprintf(g.Stdout, "  authentihash sha256 %s\n  sections %s\n", rep.Authentihash, strings.Join(sections, " "))
	for i, sg := range rep.Signatures {
		kind := "primary"
		if sg.Nested {
			kind = "nested"
		}
		class := string(sg.Class)
		if class == "" {
			class = "chains to no pinned root: does not count"
		}
		fmt.Fprintf(g.Stdout, "  signature %d (%s, %s): %s\n    signer %s (sha1 %s)\n    issuer %s\n", i, kind, sg.DigestAlgorithm, class, sg.Subject, sg.SHA1, sg.Issuer)
		if !sg.SigningTime.IsZero() {
			fmt.Fprintf(g.Stdout, "    signed %s\n", sg.SigningTime.Format(time.RFC3339))
		}
		if sg.Root != "" {
			fmt.Fprintf(g.Stdout, "    root %s (sha1 %s)\n", sg.Root, sg.RootSHA1)
		}
	}
	return nil
}

func printInspect(w io.Writer, o inspectOutput) {
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	fmt.Fprintf(w, "object:     %s (%d bytes, sha256 %s)\n", o.Path, o.Size, o.SHA256)
	fmt.Fprintf(w, "license:    %q (GPL-compatible: %s)\n", o.License, yes(o.GPLCompat))
	fmt.Fprintf(w, "byte order: %s\n", o.ByteOrder)
	relos := 0
	for _, p := range o.Programs {
		relos += p.CORERelos
	}
	fmt.Fprintf(w, "BTF:        %s\n", yes(o.BTF))
	fmt.Fprintf(w, "CO-RE:      %s (%d relocations)\n", yes(o.CORE), relos)
	if len(o.DataSections) > 0 {
		fmt.Fprintf(w, "data:       %s\n", strings.Join(o.DataSections, ", "))
	}
	if k := o.Kernel; k != nil && k.MinVersion != "" {
		var by []string
		for _, f := range k.SetBy {
			by = append(by, f.Label())
		}
		fmt.Fprintf(w, "min kernel: %s (%s)\n", k.MinVersion, strings.Join(by, ", "))
		if len(k.Unknown) > 0 {
			fmt.Fprintf(w, "            not in the kernel table: %s\n", strings.Join(k.Unknown, ", "))
		}
	}

	fmt.Fprintf(w, "\nPROGRAMS (%d)\n", len(o.Programs))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSECTION\tTYPE\tATTACH\tINSNS\tCO-RE RELOS")
	for _, p := range o.Programs {
		attach := p.AttachType
		if p.AttachTo != "" {
			attach = strings.TrimSpace(attach + " " + p.AttachTo)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\n", p.Name, p.Section, p.Type, dash(attach), p.Instructions, p.CORERelos)
	}
	tw.Flush()
	for _, p := range o.Programs {
		if len(p.Helpers)+len(p.Kfuncs)+len(p.Calls)+len(p.Maps)+len(p.TailCalls)+len(p.ISA) == 0 {
			continue
		}
		fmt.Fprintf(w, "  %s:\n", p.Name)
		for _, l := range []struct {
			k string
			v []string
		}{{"helpers", p.Helpers}, {"kfuncs", p.Kfuncs}, {"calls", p.Calls}, {"maps", p.Maps}, {"tail calls", p.TailCalls}, {"isa", isaLabels(p.ISA)}} {
			if len(l.v) > 0 {
				fmt.Fprintf(w, "    %-11s %s\n", l.k+":", strings.Join(l.v, ", "))
			}
		}
	}

	fmt.Fprintf(w, "\nMAPS (%d)\n", len(o.Maps))
	if len(o.Maps) > 0 {
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tTYPE\tKEY\tVALUE\tMAX ENTRIES\tFLAGS\tPINNING")
		for _, m := range o.Maps {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%#x\t%s\n", m.Name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries, m.Flags, dash(m.Pinning))
		}
		tw.Flush()
	}
}

// isaLabels adds to each instruction-set feature the kernel that first
// accepts it, from the minimum-kernel table: "jmp32 (5.1)".
func isaLabels(isa []string) []string {
	var out []string
	for _, f := range isa {
		if e, ok := bpfobj.LookupKernelFeature(bpfobj.FeatureCapability, f); ok {
			f += " (" + e.Version.String() + ")"
		}
		out = append(out, f)
	}
	return out
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
