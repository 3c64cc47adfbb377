package main

import (
	"fmt"
	"strings"

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
		Short: "Renew the online metadata without a rebuild (run it on a schedule)",
		Long: `Re-sign timestamp.json with a new version and expiry, and snapshot and the
bins too when they expire within half their period, in REPO_DIR/metadata
and in the published output (new files first, timestamp.json last, each
replaced atomically), without a rebuild. timestamp.json expires after a
day by default: run this from cron or a scheduled CI job, then publish
OUT_DIR/metadata/. Needs the timestamp key, and the snapshot and bins keys
when those roles need renewing. Nothing is written if any role would be
published expired (or within an hour of it); the error names the role
and the signing event it needs. Signing times come from the clock, never
from SOURCE_DATE_EPOCH.`,
		Args: argsBetween(0, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := openRepo(cmd, dir)
			if err != nil {
				return err
			}
			opts.Warn = func(msg string) { fmt.Fprintln(g.Stderr, "warning: "+msg) }
			res, err := r.Timestamp(cmd.Context(), opts)
			if err != nil {
				return repoFail(err)
			}
			if g.JSON {
				return writeJSON(g.Stdout, res)
			}
			fmt.Fprintf(g.Stdout, "re-signed %s\n", strings.Join(res.Resigned, ", "))
			if len(res.Published) > 0 {
				fmt.Fprintf(g.Stdout, "published %s\n", strings.Join(res.Published, ", "))
			}
			return nil
		},
	}
	repoFlag(cmd, &dir)
	cmd.Flags().StringVarP(&opts.OutDir, "output", "o", "", "published output to update (default REPO_DIR/public)")
	return cmd
}
