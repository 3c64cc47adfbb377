package client

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ebpfrepo/ebpfrepo/authenticode"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"

	"github.com/ebpfrepo/ebpfrepo/index"
)

// Signing levels a client can require (Options.Require).
const (
	// LevelPublisher: the artifact is vouched for by its publisher's own
	// TUF role (pub-<publisher>), which the repository's CI cannot sign.
	LevelPublisher = "publisher"
	// LevelHVCI: every Windows native driver (.sys) in the artifact is
	// production-ebpf — signed for eBPF for Windows' production profile —
	// as the client verifies offline from the artifact's own bytes, not
	// only as the index says; an artifact without a driver fails it.
	LevelHVCI = "hvci"
	// LevelKernel: the artifact carries a signed light-skeleton loader
	// that the client re-verifies offline, from the artifact's own bytes,
	// against the certificates the host trusts (Options.KernelCerts):
	// what the kernel will check at load, checked before anything is
	// written. An artifact without one fails it.
	LevelKernel = "kernel"
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
		if k := e.Got.Keyless; k != nil {
			got += " (keyless: " + k.Identity + ")"
		}
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
	up, tf, err := c.targetInfo(ctx, rel.TargetPath)
	if err != nil {
		return index.PackageSignature{}, err
	}
	return c.keylessSigner(ctx, up, rel, hex.EncodeToString(tf.Hashes["sha256"]), signerOf(up.SignerChain(rel.TargetPath)))
}

// HVCIError is an artifact that verified through TUF but whose drivers
// are not production-ebpf, as Require "hvci" demands.
type HVCIError struct {
	Package string // name@version
	Driver  string // the .sys inside the artifact ("" when it has none)
	Class   authenticode.Class
	Err     error // the verification failure, when there was one
}

func (e *HVCIError) Error() string {
	switch {
	case e.Driver == "":
		return fmt.Sprintf("package %s: no Windows driver (.sys) in the artifact; --require hvci needs production-signed drivers", e.Package)
	case e.Err != nil:
		return fmt.Sprintf("package %s: driver %s: %v; --require hvci refuses it", e.Package, e.Driver, e.Err)
	}
	return fmt.Sprintf("package %s: driver %s is %s, not production-ebpf (signed for eBPF for Windows' production profile); --require hvci refuses it: HVCI would not load it", e.Package, e.Driver, e.Class)
}

func (e *HVCIError) Is(target error) bool { return target == ErrPolicy }

func (e *HVCIError) Unwrap() error { return e.Err }

// checkEvidence re-checks, from the artifact's own bytes, the signing
// levels the client requires beyond TUF (hvci, kernel): the artifact is
// read once for all of them.
func (c *Client) checkEvidence(ctx context.Context, rel Release, data []byte) error {
	hvci, kernel := slices.Contains(c.require, LevelHVCI), slices.Contains(c.require, LevelKernel)
	if !hvci && !kernel {
		return nil
	}
	label := rel.Name + "@" + rel.Version
	cont, err := pkgfmt.ReadArtifact(ctx, rel.Artifact, bytes.NewReader(data), int64(len(data)), pkgfmt.Limits{})
	if err != nil {
		err = fmt.Errorf("the artifact does not read: %w", err)
		if hvci {
			return &HVCIError{Package: label, Err: err}
		}
		return &KernelError{Package: label, Reason: err.Error()}
	}
	if hvci {
		if err := c.checkHVCI(label, cont); err != nil {
			return err
		}
	}
	if kernel {
		return c.checkKernel(ctx, label, cont)
	}
	return nil
}

// checkHVCI re-verifies, offline, every driver inside the artifact's
// bytes: the index says what CI saw, the bytes are the evidence.
func (c *Client) checkHVCI(label string, cont *pkgfmt.Contents) error {
	n := 0
	for _, f := range cont.Files {
		if !strings.HasSuffix(strings.ToLower(f.Path), ".sys") {
			continue
		}
		n++
		rep, err := authenticode.Verify(f.Data, c.hvciTrust)
		if err != nil {
			return &HVCIError{Package: label, Driver: f.Path, Err: err}
		}
		if rep.Class != authenticode.ClassProduction {
			return &HVCIError{Package: label, Driver: f.Path, Class: rep.Class}
		}
	}
	if n == 0 {
		return &HVCIError{Package: label}
	}
	return nil
}
