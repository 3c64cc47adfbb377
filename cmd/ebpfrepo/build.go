package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/ebpfrepo/ebpfrepo/repo"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func init() { registerCommand(newBuildCmd) }

func newBuildCmd(g *globals) *cobra.Command {
	var (
		dir  string
		opts repo.BuildOptions
	)
	cmd := &cobra.Command{
		Use:   "build --repo REPO_DIR [-o OUT_DIR] [--skip-invalid] [--json]",
		Short: "Write the static, signed repository and catalogue",
		Long: `Validate every package of REPO_DIR and write the static repository into
OUT_DIR (default REPO_DIR/public): the index and the artifacts as TUF
targets, the TUF metadata, the plain l3afd tree and the catalogue. The
output is built beside OUT_DIR and swapped in at the end: a failed build
leaves the previous output untouched. Invalid packages fail the build
with every problem listed, unless --skip-invalid. Before the swap the
build reads its new output back as ebpfrepo check does, and publishes
nothing that does not verify. Files that left the metadata (earlier
metadata versions, removed versions) stay for the grace period of
ebpfrepo.toml (default 3 days). SOURCE_DATE_EPOCH fixes the content dates
(added dates, archive and catalogue times); signatures always expire from
the current time, and no role is ever written expired. Needs the targets, bins,
snapshot and timestamp keys (files in keys/ or EBPFREPO_<ROLE>_KEY).`,
		Args: argsBetween(0, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := openRepo(cmd, dir)
			if err != nil {
				return err
			}
			var bar *progressbar.ProgressBar
			clearLine := func() {}
			if f, ok := g.Stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) && !g.JSON {
				n := 0
				opts.Phase = func(name, what string) {
					n++
					if bar != nil {
						bar.Finish()
						bar = nil
					}
					line := fmt.Sprintf("build [%d] %s: %s", n, name, what)
					if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 4 && len(line) > w-1 {
						line = line[:w-2] + "…"
					}
					fmt.Fprint(f, "\r\033[K"+line)
				}
				clearLine = func() { fmt.Fprint(f, "\r\033[K") }
				opts.Progress = func(done, total int) {
					if bar == nil {
						bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(f), progressbar.OptionSetDescription("validating"),
							progressbar.OptionShowCount(), progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100_000_000))
					}
					bar.Set(done)
				}
			}
			opts.Phase = heapProfileAt(os.Getenv("EBPFREPO_MEMPROFILE_AT"), os.Getenv("EBPFREPO_MEMPROFILE"), opts.Phase)
			res, err := r.Build(cmd.Context(), opts)
			if bar != nil {
				bar.Finish()
			}
			clearLine()
			if err != nil {
				return repoFail(err)
			}
			for _, s := range res.Skipped {
				for _, p := range s.Problems {
					fmt.Fprintf(g.Stderr, "skipped: %s\n", p)
				}
			}
			if g.JSON {
				return writeJSON(g.Stdout, res)
			}
			signed := "nothing changed"
			if len(res.RolesSigned) > 0 || res.BinsSigned > 0 {
				signed = fmt.Sprintf("signed %s and %d of %d bins", strings.Join(res.RolesSigned, ", "), res.BinsSigned, res.Bins)
			}
			for _, n := range res.Notes {
				fmt.Fprintln(g.Stderr, "note: "+n)
			}
			fmt.Fprintf(g.Stdout, "built %s: %d packages, %d versions, %d targets, %d bytes of artifacts (%d validated now, %d validated before by add or a build); %s; %d artifacts read back and verified",
				res.OutDir, res.Packages, res.Versions, res.Targets, res.Bytes, res.Validated, res.Cached, signed, res.Checked)
			if res.Retained > 0 {
				fmt.Fprintf(g.Stdout, "; %d earlier files kept through the grace period", res.Retained)
			}
			fmt.Fprintf(g.Stdout, "; %.2fs\n", res.Seconds)
			if len(res.Skipped) > 0 {
				fmt.Fprintf(g.Stdout, "skipped %d invalid version(s)\n", len(res.Skipped))
			}
			return nil
		},
	}
	repoFlag(cmd, &dir)
	cmd.Flags().StringVarP(&opts.OutDir, "output", "o", "", "output directory (default REPO_DIR/public)")
	cmd.Flags().BoolVar(&opts.SkipInvalid, "skip-invalid", false, "report invalid packages and leave them out instead of failing")
	cmd.Flags().BoolVar(&opts.FullCheck, "full-check", false, "check every package through TUF before publishing, not only those this build changed")
	return cmd
}
