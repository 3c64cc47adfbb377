package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
	"github.com/spf13/cobra"
)

func init() { registerCommand(newVerifyCmd) }

func newVerifyCmd(g *globals) *cobra.Command {
	var cf consumerFlags
	cmd := &cobra.Command{
		Use:   "verify --repo URL --root ROOT.json FILE [--require publisher] [--publisher NAME]",
		Short: "Check a local artifact file against a repository's signed metadata",
		Long: `Read FILE (an artifact: its manifest says which package, version and
platforms it is), and check through TUF that the repository signs exactly
these bytes for every platform, and who vouches for them: its publisher
(with the key ids) or the repository only. Exit 1 when the file is not in
the repository, differs from what is signed (tampered), or is not signed
as --require / --publisher demand.`,
		Args: argsBetween(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			cont, err := pkgfmt.ReadArtifact(cmd.Context(), args[0], bytes.NewReader(data), int64(len(data)), pkgfmt.Limits{})
			if err != nil {
				return consumerFail(fmt.Errorf("%s: not a readable artifact: %w", args[0], err))
			}
			mf, ok := cont.File(pkgfmt.ManifestFile)
			if !ok {
				return consumerFail(fmt.Errorf("%s: no %s: not a package", args[0], pkgfmt.ManifestFile))
			}
			m, probs := pkgfmt.ParseManifest(mf.Data)
			if m == nil || probs.HasErrors() {
				return consumerFail(fmt.Errorf("%s: its manifest does not parse (ebpfrepo lint says why)", args[0]))
			}
			c, err := cf.newClient(m.Name)
			if err != nil {
				return err
			}
			ctx, cancel := cf.context(cmd)
			defer cancel()
			v, err := c.VerifyArtifact(ctx, m.Name, m.Version, m.Artifact, m.Platforms, data)
			if err != nil {
				return consumerFail(fmt.Errorf("%s: %w", args[0], err))
			}
			if g.JSON {
				return writeJSON(g.Stdout, v)
			}
			fmt.Fprintf(g.Stdout, "ok: %s is %s@%s (sha256 %s), %s\n", args[0], m.Name, m.Version, v.SHA256, signerText(v.Signer))
			var roles []string
			for _, r := range v.Roles {
				roles = append(roles, fmt.Sprintf("%s v%d", r.Name, r.Version))
			}
			fmt.Fprintf(g.Stdout, "  targets: %s\n  vouched for by: targets → %s\n", strings.Join(v.Targets, ", "), strings.Join(roles, " → "))
			return nil
		},
	}
	cf.register(cmd)
	return cmd
}
