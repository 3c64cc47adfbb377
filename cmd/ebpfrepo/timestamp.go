package main

import (
	"fmt"

	"github.com/ebpfrepo/ebpfrepo/repo"
	"github.com/spf13/cobra"
)

func init() { registerCommand(newTimestampCmd) }

func newTimestampCmd(g *globals) *cobra.Command {
	var (
		dir  string
		opts repo.TimestampOptions
	)
	cmd := &cobra.Command{
		Use:   "timestamp --repo REPO_DIR [-o OUT_DIR]",
		Short: "Re-sign timestamp.json only (run it on a schedule)",
		Long: `Re-sign timestamp.json with a new version and expiry, in REPO_DIR/metadata
and in the published output (replaced atomically), without a rebuild.
timestamp.json expires after a day by default: run this from cron or a
scheduled CI job, then publish OUT_DIR/metadata/timestamp.json. Needs only
the timestamp key.`,
		Args: argsBetween(0, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := openRepo(cmd, dir)
			if err != nil {
				return err
			}
			opts.Warn = func(msg string) { fmt.Fprintln(g.Stderr, "warning: "+msg) }
			if err := r.Timestamp(cmd.Context(), opts); err != nil {
				return repoFail(err)
			}
			if g.JSON {
				return writeJSON(g.Stdout, map[string]any{"resigned": []string{"timestamp"}})
			}
			fmt.Fprintln(g.Stdout, "re-signed timestamp.json")
			return nil
		},
	}
	repoFlag(cmd, &dir)
	cmd.Flags().StringVarP(&opts.OutDir, "output", "o", "", "published output to update (default REPO_DIR/public)")
	return cmd
}
