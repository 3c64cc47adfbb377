package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ebpfrepo/ebpfrepo/author"
	"github.com/ebpfrepo/ebpfrepo/internal/atomicfile"
	"github.com/ebpfrepo/ebpfrepo/tufrepo"
	"github.com/spf13/cobra"
)

func init() { registerCommand(newSignCmd) }

func newSignCmd(g *globals) *cobra.Command {
	var (
		publisher, key, repoArg, root, out, cache string
		expires                                   time.Duration
		addSig                                    bool
	)
	cmd := &cobra.Command{
		Use:   "sign --publisher NAME --key KEY.pem --repo URL|DIR [--root ROOT.json] [-o DIR] ARTIFACT...",
		Short: "Sign your packages as their publisher (author side)",
		Long: `Write the next version of pub-NAME.json, the TUF role through which only
you vouch for your packages: every target the repository's current role
lists (fetched and verified from --repo: a URL with its pinned --root, or a
repository directory), plus each ARTIFACT under every platform its manifest
declares, signed with KEY.pem (PKCS#8 PEM, ed25519 or ECDSA P-256). Submit
pub-NAME.json with the artifacts; the maintainers add them with
ebpfrepo add --signed pub-NAME.json ARTIFACT...

  ebpfrepo sign --add-signature --key KEY.pem pub-NAME.json

adds a co-signer's signature to a role that needs several (threshold).`,
		Args: argsBetween(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if key == "" {
				return usagef("sign: --key KEY.pem is required")
			}
			if addSig {
				if len(args) != 1 {
					return usagef("sign --add-signature: give one role file")
				}
				raw, err := tufrepo.ReadRoleFile(args[0])
				if err != nil {
					return err
				}
				signed, err := author.AddSignature(raw, key)
				if err != nil {
					return consumerFail(err)
				}
				if err := atomicfile.WriteFile(args[0], signed, 0o644); err != nil {
					return err
				}
				fmt.Fprintf(g.Stdout, "added a signature to %s\n", args[0])
				return nil
			}
			if publisher == "" || repoArg == "" {
				return usagef("sign: --publisher NAME and --repo URL|DIR are required")
			}
			var rootJSON []byte
			if root != "" {
				var err error
				if rootJSON, err = os.ReadFile(root); err != nil {
					return usagef("--root: %v", err)
				}
			}
			raw, res, err := author.Sign(cmd.Context(), args, author.SignOptions{Publisher: publisher, KeyFile: key, Repo: repoArg,
				Root: rootJSON, CacheDir: cache, Expires: expires})
			if err != nil {
				return consumerFail(err)
			}
			if out == "" {
				out = "."
			}
			p := filepath.Join(out, tufrepo.PublisherPrefix+publisher+".json")
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			if err := atomicfile.WriteFile(p, raw, 0o644); err != nil {
				return err
			}
			if g.JSON {
				return writeJSON(g.Stdout, map[string]any{"file": p, "signed": res})
			}
			fmt.Fprintf(g.Stdout, "wrote %s: version %d, %d target(s), expires %s\n", p, res.Version, res.Targets, res.Expires.Format(time.RFC3339))
			for _, t := range res.Added {
				fmt.Fprintf(g.Stdout, "  %s  %s\n", t.SHA256[:12], t.Path)
			}
			fmt.Fprintf(g.Stdout, "submit it with the artifacts: ebpfrepo add --repo REPO_DIR --signed %s ARTIFACT...\n", p)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&publisher, "publisher", "", "your publisher name, as granted")
	fl.StringVar(&key, "key", "", "your private key (PKCS#8 PEM)")
	fl.StringVar(&repoArg, "repo", "", "the repository: URL, or a repository directory")
	fl.StringVar(&root, "root", "", "pinned root.json (with a URL)")
	fl.StringVar(&cache, "cache", "", "client cache directory (with a URL)")
	fl.StringVarP(&out, "out", "o", "", "directory to write pub-NAME.json into (default .)")
	fl.DurationVar(&expires, "expires", 0, "validity of this role version (default 8760h, a year)")
	fl.BoolVar(&addSig, "add-signature", false, "add --key's signature to the role file given")
	return cmd
}
