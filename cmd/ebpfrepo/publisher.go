package main

import (
	"fmt"
	"strings"

	"github.com/ebpfrepo/ebpfrepo/author"
	"github.com/ebpfrepo/ebpfrepo/repo"
	"github.com/spf13/cobra"
)

func init() { registerCommand(newPublisherCmd) }

func newPublisherCmd(g *globals) *cobra.Command {
	pub := &cobra.Command{
		Use:   "publisher",
		Short: "Publisher keys and grants: authors who sign their own packages",
		Long: `A publisher is an author (or a team) granted some packages: from then on
only the publisher's own keys vouch for those packages' artifacts, in a
pub-<publisher> TUF role the repository's CI cannot sign. A keyless
publisher (an author who releases from CI) is granted by its workflow's
OIDC identity instead: its packages need a Sigstore bundle from that
identity (ebpfrepo add --bundle), pinned in publishers.json, which the
offline targets role signs.

  ebpfrepo publisher keygen -o DIR               the author makes a key pair
  ebpfrepo publisher add --repo R NAME --key PUB.pem --package PATTERN...
  ebpfrepo publisher add --repo R NAME --identity SAN --issuer URL --package PATTERN...
  ebpfrepo publisher remove --repo R NAME
  ebpfrepo publisher list --repo R

add and remove are offline signing events: they need the targets key.`,
		Args:               cobra.ArbitraryArgs,
		FParseErrWhitelist: cobra.FParseErrWhitelist{UnknownFlags: true},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("publisher: no such subcommand %q (there are: keygen, add, remove, list)", args[0])
			}
			return usagef("publisher: name a subcommand (keygen, add, remove, list)")
		},
	}
	pub.AddCommand(newPublisherKeygenCmd(g), newPublisherAddCmd(g), newPublisherRemoveCmd(g), newPublisherListCmd(g))
	return pub
}

func newPublisherKeygenCmd(g *globals) *cobra.Command {
	var out, name string
	cmd := &cobra.Command{
		Use:   "keygen -o DIR [--name NAME]",
		Short: "Make an ed25519 key pair for signing your packages",
		Long: `Write DIR/NAME.pem (the private key: PKCS#8 PEM, mode 0600; keep it to
yourself, never give it to the repository) and DIR/NAME.pub.pem (the public
key, which the maintainers grant with ebpfrepo publisher add).`,
		Args: argsBetween(0, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usagef("publisher keygen: -o DIR is required")
			}
			priv, pubk, err := author.Keygen(out, name)
			if err != nil {
				return err
			}
			if g.JSON {
				return writeJSON(g.Stdout, map[string]string{"private_key": priv, "public_key": pubk})
			}
			fmt.Fprintf(g.Stdout, "private key: %s (keep it to yourself)\npublic key:  %s (give it to the repository's maintainers)\n", priv, pubk)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "directory to write the key pair into")
	cmd.Flags().StringVar(&name, "name", "publisher", "file name stem of the key pair")
	return cmd
}

func newPublisherAddCmd(g *globals) *cobra.Command {
	var (
		dir        string
		keys       []string
		packages   []string
		threshold  int
		identities []string
		regexps    []string
		issuer     string
	)
	cmd := &cobra.Command{
		Use:   "add --repo REPO_DIR NAME (--key PUB.pem... [--threshold N] | --identity SAN... | --identity-regexp RE... --issuer URL) --package PATTERN...",
		Short: "Grant packages to a publisher's keys or CI identity (offline: needs the targets key)",
		Long: `Delegate the packages PATTERN (a package name, or a prefix followed by *)
to publisher NAME: from the next build on, only a threshold of its keys can
vouch for those packages, and ebpfrepo add refuses them without the
publisher's signed role (--signed). Granting again replaces the earlier
grant (a key rotation). Overlapping grants are refused.

This is an offline signing event: the targets key must be at hand
(keys/targets.pem or $EBPFREPO_TARGETS_KEY). Run ebpfrepo build afterwards
to publish the next targets version.`,
		Args: argsBetween(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			keylessGrant := len(identities)+len(regexps) > 0 || issuer != ""
			switch {
			case len(packages) == 0:
				return usagef("publisher add: --package PATTERN is required")
			case keylessGrant && len(keys) > 0:
				return usagef("publisher add: --key and --identity are two kinds of publisher: grant one or the other")
			case keylessGrant && (issuer == "" || len(identities)+len(regexps) == 0):
				return usagef("publisher add: a keyless publisher needs --issuer URL and at least one --identity or --identity-regexp")
			case !keylessGrant && len(keys) == 0:
				return usagef("publisher add: --key PUB.pem (a keyed publisher) or --identity/--issuer (a keyless one) is required")
			}
			r, err := openRepo(cmd, dir)
			if err != nil {
				return err
			}
			if keylessGrant {
				p, err := r.GrantKeyless(cmd.Context(), repo.KeylessGrantOptions{Publisher: args[0], Identities: identities, IdentityRegexps: regexps, Issuer: issuer, Packages: packages})
				if err != nil {
					return repoFail(err)
				}
				if g.JSON {
					return writeJSON(g.Stdout, p)
				}
				fmt.Fprintf(g.Stdout, "granted %s to keyless publisher %s (%d identities, issuer %s); run ebpfrepo build to publish\n",
					strings.Join(p.Packages, ", "), p.Name, len(p.Identities), issuer)
				return nil
			}
			gr, err := r.GrantPublisher(cmd.Context(), repo.GrantOptions{Publisher: args[0], KeyFiles: keys, Threshold: threshold, Packages: packages})
			if err != nil {
				return repoFail(err)
			}
			if g.JSON {
				return writeJSON(g.Stdout, map[string]any{"publisher": gr.Publisher, "packages": gr.Packages, "keyids": gr.KeyIDs(), "threshold": gr.Threshold})
			}
			fmt.Fprintf(g.Stdout, "granted %s to publisher %s (%d of %d keys); run ebpfrepo build to publish\n",
				strings.Join(gr.Packages, ", "), gr.Publisher, gr.Threshold, len(gr.Keys))
			return nil
		},
	}
	repoFlag(cmd, &dir)
	cmd.Flags().StringArrayVar(&keys, "key", nil, "the publisher's public key file (PEM \"PUBLIC KEY\"; repeatable)")
	cmd.Flags().StringArrayVar(&packages, "package", nil, "package name or prefix* granted (repeatable)")
	cmd.Flags().IntVar(&threshold, "threshold", 1, "signatures of these keys each role version needs")
	cmd.Flags().StringArrayVar(&identities, "identity", nil, "keyless: a certificate subject (SAN) that may sign, exact (repeatable)")
	cmd.Flags().StringArrayVar(&regexps, "identity-regexp", nil, "keyless: a pattern the whole subject must match (repeatable)")
	cmd.Flags().StringVar(&issuer, "issuer", "", "keyless: the OIDC issuer of the identities")
	return cmd
}

func newPublisherRemoveCmd(g *globals) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "remove --repo REPO_DIR NAME",
		Short: "Revoke a publisher's grant (offline: needs the targets key)",
		Args:  argsBetween(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := openRepo(cmd, dir)
			if err != nil {
				return err
			}
			if err := r.RevokePublisher(cmd.Context(), args[0]); err != nil {
				return repoFail(err)
			}
			fmt.Fprintf(g.Stdout, "revoked publisher %s: its packages are repository-signed from the next build on\n", args[0])
			return nil
		},
	}
	repoFlag(cmd, &dir)
	return cmd
}

func newPublisherListCmd(g *globals) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "list --repo REPO_DIR",
		Short: "List the publishers and what they are granted",
		Args:  argsBetween(0, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := openRepo(cmd, dir)
			if err != nil {
				return err
			}
			grants, err := r.Publishers(cmd.Context())
			if err != nil {
				return err
			}
			kl, err := r.KeylessPublishers(cmd.Context())
			if err != nil {
				return err
			}
			if g.JSON {
				out := []map[string]any{}
				for _, gr := range grants {
					out = append(out, map[string]any{"publisher": gr.Publisher, "packages": gr.Packages, "keyids": gr.KeyIDs(), "threshold": gr.Threshold})
				}
				for _, p := range kl {
					out = append(out, map[string]any{"publisher": p.Name, "packages": p.Packages, "identities": p.Identities})
				}
				return writeJSON(g.Stdout, out)
			}
			for _, p := range kl {
				var ids []string
				for _, id := range p.Identities {
					ids = append(ids, id.String())
				}
				fmt.Fprintf(g.Stdout, "%s\t%s\tkeyless: %s\n", p.Name, strings.Join(p.Packages, ","), strings.Join(ids, "; "))
			}
			for _, gr := range grants {
				ids := gr.KeyIDs()
				for i := range ids {
					ids[i] = ids[i][:min(len(ids[i]), 12)]
				}
				fmt.Fprintf(g.Stdout, "%s\t%s\t%d of %s\n", gr.Publisher, strings.Join(gr.Packages, ","), gr.Threshold, strings.Join(ids, ","))
			}
			return nil
		},
	}
	repoFlag(cmd, &dir)
	return cmd
}
