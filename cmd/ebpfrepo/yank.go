package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func init() { registerCommand(newYankCmd) }

func newYankCmd(g *globals) *cobra.Command {
	var (
		dir, reason string
		undo        bool
	)
	cmd := &cobra.Command{
		Use:   "yank --repo REPO_DIR NAME@VERSION --reason TEXT [--undo]",
		Short: "Withdraw a version from ranges and latest (it stays downloadable)",
		Long: `Mark NAME@VERSION yanked (recorded in REPO_DIR/yanked.toml; published at
the next build): range resolution and "latest" skip it, an exact request
still gets it, with the reason shown. --undo reverses a yank.`,
		Args: argsBetween(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, version, ok := strings.Cut(args[0], "@")
			if !ok || name == "" || version == "" {
				return usagef("yank: %q: want NAME@VERSION", args[0])
			}
			if !undo && strings.TrimSpace(reason) == "" {
				return usagef("yank: --reason TEXT is required")
			}
			r, err := openRepo(cmd, dir)
			if err != nil {
				return err
			}
			if err := r.Yank(cmd.Context(), name, version, reason, undo); err != nil {
				return repoFail(err)
			}
			if g.JSON {
				return writeJSON(g.Stdout, map[string]any{"name": name, "version": version, "yanked": !undo, "reason": reason})
			}
			what := "yanked"
			if undo {
				what = "un-yanked"
			}
			fmt.Fprintf(g.Stdout, "%s %s@%s; run ebpfrepo build to publish\n", what, name, version)
			return nil
		},
	}
	repoFlag(cmd, &dir)
	cmd.Flags().StringVar(&reason, "reason", "", "why the version is withdrawn (shown to consumers)")
	cmd.Flags().BoolVar(&undo, "undo", false, "reverse a yank")
	return cmd
}
