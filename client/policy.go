package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ebpfrepo/ebpfrepo/index"
)

// Signing levels a client can require (Options.Require).
const (
	// LevelPublisher: the artifact is vouched for by its publisher's own
	// TUF role (pub-<publisher>), which the repository's CI cannot sign.
	LevelPublisher = "publisher"
)

// ErrPolicy is matched, with errors.Is, by every refusal of the client's
// policy (Options.Require, Options.Publishers).
var ErrPolicy = errors.New("refused by policy")

// PolicyError is an artifact that verified but lacks what the policy
// requires.
type PolicyError struct {
	Package string // name@version
	Target  string
	Level   string // the level required
	Want    string // the publisher required, when pinned
	Got     index.PackageSignature
}

func (e *PolicyError) Error() string {
	got := "repository-signed only"
	if e.Got.Signer == index.SignerPublisher {
		got = "signed by publisher " + e.Got.Publisher
	}
	if e.Want != "" {
		return fmt.Sprintf("package %s: %s, but publisher %s must sign it (--publisher): not installed", e.Package, got, e.Want)
	}
	return fmt.Sprintf("package %s: %s; --require %s refuses it (the repository's maintainers grant the package to its author: ebpfrepo publisher add)", e.Package, got, e.Level)
}

func (e *PolicyError) Is(target error) bool { return target == ErrPolicy }

// signerOf says who vouches for a target, from the chain of roles that
// list it (Updater.SignerChain).
func signerOf(chain []index.RoleInfo) index.PackageSignature {
	for _, ri := range chain {
		if name, ok := strings.CutPrefix(ri.Name, "pub-"); ok {
			return index.PackageSignature{Signer: index.SignerPublisher, Publisher: name, Role: ri.Name, KeyIDs: slices.Clone(ri.KeyIDs)}
		}
	}
	role := "unclaimed"
	if len(chain) > 0 && chain[0].Name != "unclaimed" {
		role = chain[0].Name // metadata from before publisher delegations: a bin of targets
	}
	return index.PackageSignature{Signer: index.SignerRepository, Role: role}
}

// checkPolicy refuses a release whose signer the policy does not accept.
func (c *Client) checkPolicy(rel Release, sig index.PackageSignature) error {
	want := c.publishers[rel.Name]
	need := want != "" || slices.Contains(c.require, LevelPublisher)
	if !need {
		return nil
	}
	pe := &PolicyError{Package: rel.Name + "@" + rel.Version, Target: rel.TargetPath, Level: LevelPublisher, Want: want, Got: sig}
	if sig.Signer != index.SignerPublisher || (want != "" && sig.Publisher != want) {
		return pe
	}
	return nil
}

// SignerOf returns who vouches for rel's artifact in the verified TUF
// metadata: its publisher (pub-<publisher>, with the key ids), or the
// repository.
func (c *Client) SignerOf(ctx context.Context, rel Release) (index.PackageSignature, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	up, _, err := c.targetInfo(ctx, rel.TargetPath)
	if err != nil {
		return index.PackageSignature{}, err
	}
	return signerOf(up.SignerChain(rel.TargetPath)), nil
}
