package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
	"github.com/spf13/cobra"
)

func init() { registerCommand(newPackCmd) }

func newPackCmd(g *globals) *cobra.Command {
	var (
		out   string
		force bool
	)
	cmd := &cobra.Command{
		Use:   "pack SRC_DIR [-o OUT_DIR]",
		Short: "Lint a package source directory and write its artifact",
		Long: `Lint the package source directory SRC_DIR (as ebpfrepo lint does) and, when
it has no errors, write the artifact its manifest names into OUT_DIR
(default: the current directory), deterministically: sorted entries, one
top-level directory named after the artifact stem, fixed modification time
(SOURCE_DATE_EPOCH, else 1970), uid/gid 0. Prints the artifact's path.
Warnings are printed to stderr and do not stop packing. An artifact
already in OUT_DIR with other bytes (another version of the package) is
not replaced unless --force.`,
		Args: argsBetween(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src := args[0]
			if fi, err := os.Stat(src); err != nil {
				return usagef("pack: %v", err)
			} else if !fi.IsDir() {
				return usagef("pack: %s is not a directory: give the package source directory", src)
			}
			d, err := pkgfmt.LintPath(cmd.Context(), src, pkgfmt.LintOptions{})
			if err != nil {
				return err
			}
			if d.HasErrors() {
				return lintErrors(d)
			}
			for _, p := range d.Problems {
				fmt.Fprintln(g.Stderr, p)
			}
			path, err := pkgfmt.Pack(cmd.Context(), src, out, pkgfmt.PackOptions{Overwrite: force})
			if err != nil {
				return err // a package with errors was refused above: what is left is the file system's
			}
			if !g.JSON {
				fmt.Fprintln(g.Stdout, path)
				return nil
			}
			sum, n, err := fileDigest(path)
			if err != nil {
				return err
			}
			return writeJSON(g.Stdout, struct {
				Path   string `json:"path"`
				SHA256 string `json:"sha256"`
				Length int64  `json:"length"`
			}{path, sum, n})
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", ".", "directory to write the artifact into")
	cmd.Flags().BoolVar(&force, "force", false, "replace an artifact already in OUT_DIR with other bytes")
	return cmd
}

func fileDigest(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
