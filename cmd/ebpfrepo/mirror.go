package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { registerCommand(newMirrorCmd) }

func newMirrorCmd(g *globals) *cobra.Command {
	var (
		cf consumerFlags
		to string
	)
	cmd := &cobra.Command{
		Use:   "mirror --repo URL --root ROOT.json --to DIR [NAME[@CONSTRAINT]...]",
		Short: "Write verified artifacts into an l3afd file:// tree",
		Long: `Write verified artifacts into DIR/<name>/<version>/<platform>/<artifact>, and the
newest stable version of each package and platform into DIR/<name>/latest/…,
so that l3afd configured with

  [ebpf-repo]
  url: file:///DIR

loads only verified programs. NAME mirrors every non-yanked version of a
package, NAME@CONSTRAINT the newest matching version per platform; no selector
mirrors every package. latest is the newest stable version mirrored. Re-running
is incremental and replaces a stale latest atomically (and removes one whose
versions were all yanked). Only bytes verified through TUF are written.`,
		Args: argsBetween(0, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if to == "" {
				return usagef("--to DIR is required")
			}
			var names []string
			for _, a := range args {
				n, _, err := parseSelector(a)
				if err != nil {
					return err
				}
				names = append(names, n)
			}
			c, err := cf.newClient(names...)
			if err != nil {
				return err
			}
			ctx, cancel := cf.context(cmd)
			defer cancel()
			rep, err := c.Mirror(ctx, to, args...)
			if g.JSON {
				if jerr := writeJSON(g.Stdout, rep); jerr != nil {
					return jerr
				}
			} else if rep != nil {
				for _, e := range rep.Entries {
					if e.Action != "unchanged" {
						fmt.Fprintf(g.Stdout, "%-8s %s\n", e.Action, e.Path)
					}
				}
				for _, sk := range rep.Skipped {
					fmt.Fprintf(g.Stderr, "skipped %s: %s\n", sk.Name, sk.Reason)
				}
				n := map[string]int{}
				for _, e := range rep.Entries {
					n[e.Action]++
				}
				fmt.Fprintf(g.Stdout, "mirror %s: %d written, %d unchanged", consumerAbs(to), n["written"]+n["replaced"], n["unchanged"])
				if n["removed"] > 0 {
					fmt.Fprintf(g.Stdout, ", %d stale latest removed", n["removed"])
				}
				fmt.Fprintln(g.Stdout)
			}
			return consumerFail(err)
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&to, "to", "", "directory of the l3afd file:// tree (required)")
	return cmd
}
