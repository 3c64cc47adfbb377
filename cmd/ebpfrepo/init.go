package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/repo"
	"github.com/spf13/cobra"
)

func init() { registerCommand(newInitCmd) }

func newInitCmd(g *globals) *cobra.Command {
	var opts repo.InitOptions
	cmd := &cobra.Command{
		Use:   "init REPO_DIR [--name N] [--description D] [--base-url U] [--root-keys K --root-threshold T]",
		Short: "Create a repository: ebpfrepo.toml, keys/, packages/, metadata/1.root.json",
		Long: `Create a repository in REPO_DIR: ebpfrepo.toml (see docs/repository.md),
keys/ (0700) with one ed25519 key per TUF role (0600; K root keys), an
empty packages/, and metadata/1.root.json signed by the root keys — the
file consumers pin. Refuses to touch an existing repository. Move the root
keys offline once done; build needs only the other keys.`,
		Args: argsBetween(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.RootThreshold > 0 && opts.RootKeys == 0 {
				opts.RootKeys = opts.RootThreshold
			}
			if opts.RootKeys < 0 || opts.RootThreshold < 0 || (opts.RootKeys > 0 && opts.RootThreshold > opts.RootKeys) {
				return usagef("--root-threshold %d must be between 1 and --root-keys %d", opts.RootThreshold, opts.RootKeys)
			}
			dir := args[0]
			if err := repo.Init(cmd.Context(), dir, opts); err != nil {
				return err
			}
			root := filepath.Join(layout.RepoDir(dir).Metadata(), layout.RootFile(1))
			data, err := os.ReadFile(root)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			if g.JSON {
				return writeJSON(g.Stdout, struct {
					Dir        string `json:"dir"`
					Root       string `json:"root"`
					RootSHA256 string `json:"root_sha256"`
				}{dir, root, hex.EncodeToString(sum[:])})
			}
			fmt.Fprintf(g.Stdout, "created repository %s\n  root metadata %s (sha256 %s)\n  keys in %s: move root*.pem offline; keep keys/ out of version control\n",
				dir, root, hex.EncodeToString(sum[:]), layout.RepoDir(dir).Keys())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Name, "name", "", "repository name (default: the directory's name)")
	f.StringVar(&opts.Description, "description", "", "repository description")
	f.StringVar(&opts.BaseURL, "base-url", "", "public URL the output will be served from")
	f.IntVar(&opts.RootKeys, "root-keys", 0, "number of root keys to generate (default 1)")
	f.IntVar(&opts.RootThreshold, "root-threshold", 0, "root signatures required (default 1)")
	return cmd
}
