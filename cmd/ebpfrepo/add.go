package main

import (
	"errors"
	"fmt"

	"github.com/ebpfrepo/ebpfrepo/repo"
	"github.com/spf13/cobra"
)

func init() { registerCommand(newAddCmd) }

// repoFlag is the --repo REPO_DIR flag of the maintainer commands.
func repoFlag(cmd *cobra.Command, dir *string) {
	cmd.Flags().StringVar(dir, "repo", "", "repository directory (required)")
}

func openRepo(cmd *cobra.Command, dir string) (*repo.Repo, error) {
	if dir == "" {
		return nil, usagef("%s: --repo REPO_DIR is required", cmd.Name())
	}
	return repo.Open(cmd.Context(), dir)
}

// repoFail marks package and repository problems as validation failures
// (exit status 1).
func repoFail(err error) error {
	var ie *repo.InvalidError
	var ce *repo.ConflictError
	if errors.As(err, &ie) || errors.As(err, &ce) || errors.Is(err, repo.ErrLocked) {
		return consumerFail(err)
	}
	return err
}

func newAddCmd(g *globals) *cobra.Command {
	var (
		dir    string
		verify bool
		signed []string
		bundle string
	)
	cmd := &cobra.Command{
		Use:   "add --repo REPO_DIR PATH...",
		Short: "Validate packages and copy them into the repository",
		Long: `Lint each PATH (an artifact .tar.gz/.zip, or a package source directory,
which is packed first) and copy the artifacts into
REPO_DIR/packages/<name>/<version>/. Any error blocks the whole add: nothing
is copied and every problem is listed. A published name@version is
immutable: different bytes are refused, identical bytes are a no-op.
The packages are published at the next build.

A package a publisher holds (ebpfrepo publisher add) is accepted only with
its author's signed role: --signed pub-<publisher>.json, as ebpfrepo sign
wrote it. The role is verified (granted keys and threshold, a higher
version, not expired, every target inside the grant, no earlier target
changed) and must list the artifact's exact bytes; the repository keeps it
as signed and never re-signs it.

A package a keyless publisher holds is accepted only with a Sigstore bundle
over the artifact from one of the publisher's identities: --bundle FILE (or
ARTIFACT.sigstore.json beside the artifact) — a message signature as
cosign sign-blob --bundle writes it, or a DSSE in-toto attestation whose
subject is the artifact (GitHub's attest-build-provenance). It is verified
offline against the repository's pinned Sigstore trusted root: certificate
chain, SCT, transparency-log entry, signing time inside the certificate's
validity, identity and issuer.`,
		Args: argsBetween(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := openRepo(cmd, dir)
			if err != nil {
				return err
			}
			res, err := r.Add(cmd.Context(), args, repo.AddOptions{Verify: verify, Signed: signed, Bundle: bundle})
			if err != nil {
				return repoFail(err)
			}
			if g.JSON {
				return writeJSON(g.Stdout, res)
			}
			for _, a := range res {
				state := "added"
				if a.Unchanged {
					state = "unchanged"
				}
				fmt.Fprintf(g.Stdout, "%s@%s %s (%s, sha256 %s)\n", a.Name, a.Version, state, a.Path, a.SHA256)
				if k := a.Keyless; k != nil {
					fmt.Fprintf(g.Stdout, "  keyless signature verified offline: %s (issuer %s), publisher %s, log entry %d\n", k.Identity, k.Issuer, k.Publisher, k.LogIndex)
				}
				for _, w := range a.Warnings {
					fmt.Fprintf(g.Stderr, "warning: %s\n", w)
				}
			}
			return nil
		},
	}
	repoFlag(cmd, &dir)
	cmd.Flags().BoolVar(&verify, "verify", false, "also load every program into this kernel's verifier (root)")
	cmd.Flags().StringVar(&bundle, "bundle", "", "a Sigstore bundle over the one artifact added, for a keyless publisher's package")
	cmd.Flags().StringArrayVar(&signed, "signed", nil, "a publisher's signed role file pub-<publisher>.json vouching for claimed packages (repeatable)")
	return cmd
}
