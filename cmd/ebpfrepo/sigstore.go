package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func init() { registerCommand(newSigstoreCmd) }

func newSigstoreCmd(g *globals) *cobra.Command {
	sig := &cobra.Command{
		Use:   "sigstore",
		Short: "The Sigstore trusted root keyless publishers' bundles are verified against",
		Args:  argsBetween(0, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return usagef("sigstore: name a subcommand (update-trust-root)")
		},
	}
	var dir string
	up := &cobra.Command{
		Use:   "update-trust-root --repo REPO_DIR FILE",
		Short: "Pin a Sigstore trusted_root.json (offline: needs the targets key)",
		Long: `Pin FILE, a Sigstore trusted_root.json, as the root keyless bundles are
verified against, at add, at build and by every client. It becomes a target
of the top-level targets role: an offline signing event, like publisher
add. Clients never fetch a Sigstore root at run time; when Sigstore rotates
its keys, run this again with the new root.

For the public-good instance, take trusted_root.json from its TUF
repository (https://tuf-repo-cdn.sigstore.dev, e.g. with
cosign trusted-root create or sigstore-go's tufclient); for a private
instance, its own trusted_root.json.`,
		Args: argsBetween(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := openRepo(cmd, dir)
			if err != nil {
				return err
			}
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			if err := r.UpdateTrustRoot(cmd.Context(), data); err != nil {
				return consumerFail(err)
			}
			fmt.Fprintf(g.Stdout, "pinned Sigstore trusted root %s; run ebpfrepo build to publish\n", args[0])
			return nil
		},
	}
	repoFlag(up, &dir)
	sig.AddCommand(up)
	return sig
}
