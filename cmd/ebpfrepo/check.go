package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ebpfrepo/ebpfrepo/client"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/spf13/cobra"
)

func init() { registerCommand(newCheckCmd) }

func newCheckCmd(g *globals) *cobra.Command {
	var cf consumerFlags
	cmd := &cobra.Command{
		Use:   "check DIR | --repo URL --root ROOT.json",
		Short: "Verify a published repository completely: metadata, every target, the l3afd tree",
		Long: `Verify what clients find at a published repository — a build's output
directory, or its URL — completely: the chain of metadata from the root
(signatures, versions, expiry), the signed index and every package's
index, every artifact they list (its signed target information, through
publisher delegations, and its bytes: length and sha256), and the plain
l3afd tree, byte for byte the targets. Every problem is listed with the
file it concerns; exit 1 if there is any.

For a directory, --root defaults to the directory's own
metadata/1.root.json (said so in the output): pin the root you trust with
--root to check the tree has not been replaced wholesale. For a URL,
--root is required. ebpfrepo build runs the same check over its output
before it publishes it.`,
		Args: argsBetween(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			note := ""
			if len(args) == 1 {
				if cf.repo != "" {
					return usagef("give DIR or --repo, not both")
				}
				arg := args[0]
				if strings.Contains(arg, "://") {
					cf.repo = arg
				} else {
					abs, err := filepath.Abs(arg)
					if err != nil {
						return err
					}
					if _, err := os.Stat(filepath.Join(abs, filepath.FromSlash(layout.Timestamp))); err != nil {
						return usagef("%s has no %s: not a build output (ebpfrepo build writes one)", arg, layout.Timestamp)
					}
					cf.repo = "file://" + filepath.ToSlash(abs)
					if cf.root == "" {
						cf.root = filepath.Join(abs, filepath.FromSlash(layout.FirstRoot))
						note = "trusting " + cf.root + ", the tree's own first root: pin one with --root to check the tree was not replaced whole"
					}
				}
			}
			if cf.cache == "" {
				tmp, err := os.MkdirTemp("", "ebpfrepo-check-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(tmp)
				cf.cache = tmp
			}
			c, err := cf.newClient()
			if err != nil {
				return err
			}
			ctx, cancel := cf.context(cmd)
			defer cancel()
			if note != "" && !g.JSON {
				fmt.Fprintln(g.Stderr, "note: "+note)
			}
			rep, err := c.Check(ctx)
			var ce *client.CheckError
			if err != nil && !errors.As(err, &ce) {
				return consumerFail(err)
			}
			if g.JSON {
				if werr := writeJSON(g.Stdout, rep); werr != nil {
					return werr
				}
				if err != nil {
					return consumerFail(err)
				}
				return nil
			}
			for _, p := range rep.Problems {
				fmt.Fprintln(g.Stdout, "problem: "+p)
			}
			if err != nil {
				return consumerFail(fmt.Errorf("%s: %d problem(s) (listed above)", cf.repo, len(rep.Problems)))
			}
			fmt.Fprintf(g.Stdout, "ok: %s: root v%d, %d packages, %d versions, %d targets (%d bytes) verified, %d l3afd files equal to their targets\n",
				cf.repo, rep.RootVersion, rep.Packages, rep.Versions, rep.Targets, rep.Bytes, rep.L3afd)
			if rep.Keyless > 0 {
				fmt.Fprintf(g.Stdout, "    %d keyless publishers' Sigstore bundles verified offline\n", rep.Keyless)
			}
			return nil
		},
	}
	cf.register(cmd)
	return cmd
}
