package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ebpfrepo/ebpfrepo/repo"
	"github.com/spf13/cobra"
)

func init() { registerCommand(newKeysCmd) }

func newKeysCmd(g *globals) *cobra.Command {
	keys := &cobra.Command{
		Use:   "keys",
		Short: "Manage the repository's signing keys",
		Args:  cobra.ArbitraryArgs,
		// "keys list --repo x": say there is no such subcommand, not that
		// keys has no --repo.
		FParseErrWhitelist: cobra.FParseErrWhitelist{UnknownFlags: true},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("keys: no such subcommand %q (there is: rotate)", args[0])
			}
			return usagef("keys: name a subcommand (rotate)")
		},
	}
	var dir, role string
	rotate := &cobra.Command{
		Use:   "rotate --repo REPO_DIR --role ROLE",
		Short: "Replace a role's key; root changes are chained for existing clients",
		Long: `Replace the key of ROLE (root, targets, bins, snapshot, timestamp) with a
new ed25519 key in keys/<role>.pem; the old file is kept as
keys/<role>.pem.old-<keyid8>. The root keys must be at hand: the next
N.root.json is signed by the old and the new root keys so that clients
holding an older root follow the chain. Run ebpfrepo build afterwards to
publish.`,
		Args: argsBetween(0, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(repo.Roles, role) {
				return usagef("keys rotate: --role %q: want one of %s", role, strings.Join(repo.Roles, ", "))
			}
			r, err := openRepo(cmd, dir)
			if err != nil {
				return err
			}
			if err := r.RotateKey(cmd.Context(), role, repo.RotateOptions{}); err != nil {
				return repoFail(err)
			}
			if g.JSON {
				return writeJSON(g.Stdout, map[string]any{"rotated": role})
			}
			fmt.Fprintf(g.Stdout, "rotated the %s key; run ebpfrepo build to publish\n", role)
			return nil
		},
	}
	repoFlag(rotate, &dir)
	rotate.Flags().StringVar(&role, "role", "", "role whose key to replace")
	keys.AddCommand(rotate)
	return keys
}
