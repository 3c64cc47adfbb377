package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/publish"
	"github.com/ebpfrepo/ebpfrepo/publish/s3store"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func init() { registerCommand(newPublishCmd) }

func newPublishCmd(g *globals) *cobra.Command {
	var (
		dir, out string
		s3o      s3store.Options
		opts     publish.Options
		grace    string
	)
	cmd := &cobra.Command{
		Use:   "publish --repo REPO_DIR [-o OUT_DIR] s3://BUCKET[/PREFIX] [--endpoint URL] [--dry-run]",
		Short: "Upload the built repository to S3 (or an S3-compatible store), never breaking a client",
		Long: `Upload OUT_DIR (default REPO_DIR/public, as ebpfrepo build wrote it) to
s3://BUCKET/PREFIX, uploading only what changed since the last publish
(recorded in PREFIX/` + publish.StateKey + `), in the order that keeps
every moment consistent for a client: targets, the l3afd tree, the
delegated metadata, the snapshot, the catalogue, and timestamp.json last.
Each object gets the Cache-Control a CDN should honour (immutable for
hash- and version-named files, no-cache for timestamp.json, the catalogue
and the l3afd tree) and its Content-Type. What left the tree is deleted
only after the grace period (ebpfrepo.toml's grace, default 3 days). A
publish that is interrupted leaves the previous timestamp.json, and every
file it names, in place: run it again.

Credentials come from the AWS SDK's standard chain (AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, AWS_PROFILE, web identity, instance roles). For an
S3-compatible store give --endpoint (path-style addressing is then used).`,
		Args: argsBetween(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !strings.HasPrefix(args[0], "s3://") {
				return usagef("%s: want s3://BUCKET[/PREFIX]", args[0])
			}
			src := out
			if dir != "" || src == "" {
				r, err := openRepo(cmd, dir)
				if err != nil {
					return err
				}
				if src == "" {
					src = filepath.Join(r.Dir, layout.PublicDir)
				}
				if grace == "" {
					d, err := r.Config.GracePeriod()
					if err != nil {
						return err
					}
					if opts.Grace = d; d == 0 {
						opts.Grace = -1
					}
				}
			}
			if grace != "" {
				d, err := time.ParseDuration(grace)
				if err != nil {
					return usagef("--grace %q: want a duration such as 72h", grace)
				}
				if opts.Grace = d; d == 0 {
					opts.Grace = -1
				}
			}
			st, err := s3store.New(cmd.Context(), args[0], s3o)
			if err != nil {
				return usagef("%v", err)
			}
			var bar *progressbar.ProgressBar
			if f, ok := g.Stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) && !g.JSON {
				opts.Progress = func(done, total int) {
					if bar == nil {
						bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(f), progressbar.OptionSetDescription("uploading"),
							progressbar.OptionShowCount(), progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100_000_000))
					}
					bar.Set(done)
				}
			}
			res, err := publish.Publish(cmd.Context(), src, st, opts)
			if bar != nil {
				bar.Finish()
			}
			if err != nil {
				return repoFail(err)
			}
			if g.JSON {
				return writeJSON(g.Stdout, res)
			}
			verb := "published"
			if res.DryRun {
				verb = "would publish"
			}
			fmt.Fprintf(g.Stdout, "%s %s to %s: %d files uploaded (%d bytes), %d unchanged, %d kept through the grace period, %d deleted\n",
				verb, src, res.Store, res.Uploaded, res.Bytes, res.Unchanged, res.Retained, len(res.Deleted))
			if res.DryRun {
				for _, s := range res.Steps {
					fmt.Fprintf(g.Stdout, "  %s: %d files\n", s.Name, len(s.Files))
				}
			}
			return nil
		},
	}
	repoFlag(cmd, &dir)
	fl := cmd.Flags()
	fl.StringVarP(&out, "output", "o", "", "the built output to upload (default REPO_DIR/public)")
	fl.StringVar(&s3o.Endpoint, "endpoint", "", "S3 API endpoint of an S3-compatible store (e.g. http://127.0.0.1:7070)")
	fl.StringVar(&s3o.Region, "region", "", "region (default: the SDK's, else us-east-1)")
	fl.BoolVar(&s3o.PathStyle, "path-style", false, "address the bucket in the path (implied by --endpoint)")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "say what would be uploaded and deleted, and change nothing")
	fl.StringVar(&grace, "grace", "", "how long what left the tree stays on the store (default: ebpfrepo.toml's grace, 72h)")
	return cmd
}
