package repo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ebpfrepo/ebpfrepo/internal/atomicfile"
	"github.com/ebpfrepo/ebpfrepo/internal/pkgpattern"
	"github.com/ebpfrepo/ebpfrepo/keyless"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
	"github.com/ebpfrepo/ebpfrepo/tufrepo"
)

// Keyless publishers' grants (publishers.json) and the Sigstore trusted
// root are targets of the top-level targets role: offline, so CI cannot
// change who may sign or which Sigstore is trusted. The repository keeps
// them under keyless/ by content (keyless/<sha256>.<file>): a signing
// event writes the new file, then saves the metadata that names it, so
// an interruption never leaves metadata naming a file that is not there.

// keylessState is the keyless files of record, verified against the
// top-level targets role.
type keylessState struct {
	pubs  *keyless.Publishers // nil: no keyless publisher
	trust *keyless.TrustRoot  // nil: no trusted root
	files []keylessFile
}

type keylessFile struct {
	target tufrepo.Target
	data   []byte
}

// loadKeyless reads the keyless files tr's targets role lists.
func (r *Repo) loadKeyless(tr *tufrepo.Repo) (*keylessState, error) {
	st := &keylessState{}
	for _, t := range tr.TopTargets() {
		file, ok := strings.CutPrefix(t.Path, layout.KeylessDir+"/")
		if !ok {
			continue
		}
		data, err := readCapped(r.keylessPath(file, t.SHA256), keyless.MaxTrustRootSize)
		if err != nil {
			return nil, fmt.Errorf("%s: %w (the targets role lists it: restore the repository's keyless/ directory)", t.Path, err)
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != t.SHA256 || int64(len(data)) != t.Length {
			return nil, fmt.Errorf("%s: the file is not what the targets role signs (sha256 %s): restore it from version control", t.Path, t.SHA256)
		}
		switch file {
		case layout.KeylessPublishers:
			if st.pubs, err = keyless.ParsePublishers(data); err != nil {
				return nil, err
			}
		case layout.KeylessTrustRoot:
			if st.trust, err = keyless.ParseTrustRoot(data); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("%s: not a file this ebpfrepo knows (upgrade ebpfrepo)", t.Path)
		}
		st.files = append(st.files, keylessFile{t, data})
	}
	if st.pubs != nil && len(st.pubs.Publishers) > 0 && st.trust == nil {
		return nil, errors.New("keyless publishers are granted but no Sigstore trusted root is pinned: ebpfrepo sigstore update-trust-root FILE")
	}
	return st, nil
}

func (r *Repo) keylessPath(file, sha string) string {
	return r.paths().Keyless(layout.ConsistentTargetName(file, sha))
}

// readCapped reads a file of at most max bytes.
func readCapped(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("more than %d bytes", max)
	}
	return data, nil
}

// setKeyless writes a keyless file by content and lists it in the
// top-level targets role (the caller saves the metadata); the file it
// replaces is removed once the metadata naming the new one is saved.
func (r *Repo) setKeyless(tr *tufrepo.Repo, file string, data []byte) error {
	sum := sha256.Sum256(data)
	t := tufrepo.Target{Path: layout.KeylessTarget(file), Length: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
	if err := os.MkdirAll(r.paths().Keyless(""), 0o755); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(r.keylessPath(file, t.SHA256), data, 0o644); err != nil {
		return err
	}
	return tr.SetTopTargets([]tufrepo.Target{t})
}

// pruneKeyless removes the keyless files tr no longer lists.
func (r *Repo) pruneKeyless(tr *tufrepo.Repo) {
	keep := map[string]bool{}
	for _, t := range tr.TopTargets() {
		if file, ok := strings.CutPrefix(t.Path, layout.KeylessDir+"/"); ok {
			keep[layout.ConsistentTargetName(file, t.SHA256)] = true
		}
	}
	entries, _ := os.ReadDir(r.paths().Keyless(""))
	for _, e := range entries {
		if !keep[e.Name()] && !strings.HasPrefix(e.Name(), ".") {
			_ = os.Remove(filepath.Join(r.paths().Keyless(""), e.Name()))
		}
	}
}

// KeylessGrantOptions is a keyless grant: which CI identities may sign
// which packages with Sigstore bundles.
type KeylessGrantOptions struct {
	Publisher       string
	Identities      []string // exact subject alternative names
	IdentityRegexps []string // anchored patterns (matched whole)
	Issuer          string   // the OIDC issuer of every identity
	Packages        []string // package names, or "prefix*"
}

// GrantKeyless grants packages to a keyless publisher (replacing its
// earlier grant): an offline signing event of targets, like
// GrantPublisher. A grant overlapping a keyed publisher's is refused.
func (r *Repo) GrantKeyless(ctx context.Context, o KeylessGrantOptions) (keyless.Publisher, error) {
	p := keyless.Publisher{Name: o.Publisher, Packages: o.Packages}
	for _, san := range o.Identities {
		p.Identities = append(p.Identities, keyless.Identity{SAN: san, Issuer: o.Issuer})
	}
	for _, re := range o.IdentityRegexps {
		p.Identities = append(p.Identities, keyless.Identity{SANRegexp: re, Issuer: o.Issuer})
	}
	err := r.signingEvent(ctx, "publisher add "+o.Publisher, func(tr *tufrepo.Repo) error {
		st, err := r.loadKeyless(tr)
		if err != nil {
			return err
		}
		if st.trust == nil {
			return errors.New("no Sigstore trusted root is pinned yet: ebpfrepo sigstore update-trust-root FILE first (the public-good instance's, or your own)")
		}
		for _, g := range tr.Grants() {
			if err := disjoint(p.Name, p.Packages, g.Publisher, g.Packages); err != nil {
				return err
			}
		}
		next, err := st.pubs.With(p)
		if err != nil {
			return err
		}
		data, err := next.Marshal()
		if err != nil {
			return err
		}
		return r.setKeyless(tr, layout.KeylessPublishers, data)
	})
	return p, err
}

// disjoint refuses a grant whose name or packages another publisher
// (keyed or keyless) holds.
func disjoint(name string, pkgs []string, other string, otherPkgs []string) error {
	if name == other {
		return fmt.Errorf("publisher %s already holds a grant of the other kind (keyed or keyless): ebpfrepo publisher remove %s first", name, name)
	}
	for _, a := range pkgs {
		for _, b := range otherPkgs {
			if pkgpattern.Overlap(a, b) {
				return fmt.Errorf("publisher %s: %w: %q and %s's %q", name, tufrepo.ErrOverlap, a, other, b)
			}
		}
	}
	return nil
}

// KeylessPublishers lists the keyless grants of record.
func (r *Repo) KeylessPublishers(ctx context.Context) ([]keyless.Publisher, error) {
	tr, err := tufrepo.Load(ctx, r.paths().Metadata(), tufrepo.Options{})
	if err != nil {
		return nil, err
	}
	st, err := r.loadKeyless(tr)
	if err != nil || st.pubs == nil {
		return nil, err
	}
	return st.pubs.Publishers, nil
}

// UpdateTrustRoot pins data, a Sigstore trusted_root.json (the
// public-good instance's, from its TUF repository, or a private
// instance's), as the root keyless bundles are verified against: an
// offline signing event of targets. Clients never fetch a Sigstore root:
// they take this one, through TUF.
func (r *Repo) UpdateTrustRoot(ctx context.Context, data []byte) error {
	if _, err := keyless.ParseTrustRoot(data); err != nil {
		return fmt.Errorf("sigstore update-trust-root: %w", err)
	}
	return r.signingEvent(ctx, "sigstore update-trust-root", func(tr *tufrepo.Repo) error {
		return r.setKeyless(tr, layout.KeylessTrustRoot, data)
	})
}

// acceptBundles verifies, offline, the Sigstore bundle of every package
// a keyless publisher holds, against the repository's trusted root and
// the publisher's identities; a claimed package without a bundle that
// verifies is refused, and nothing is added.
func (r *Repo) acceptBundles(ctx context.Context, todo []*pending, explicit string) error {
	tr, err := tufrepo.LoadClaims(ctx, r.paths().Metadata())
	if err != nil {
		return err
	}
	st, err := r.loadKeyless(tr)
	if err != nil {
		return fmt.Errorf("add: %w", err)
	}
	var problems pkgfmt.Problems
	for _, p := range todo {
		label := p.res.Name + "@" + p.res.Version
		prob := func(code, file, msg string) {
			problems = append(problems, pkgfmt.Problem{Severity: pkgfmt.SeverityError, Package: label, File: file, Code: code, Message: msg})
		}
		bundlePath := explicit
		if bundlePath == "" {
			if _, err := os.Stat(p.res.Source + layout.BundleSuffix); err == nil {
				bundlePath = p.res.Source + layout.BundleSuffix
			}
		}
		g, claimed := st.pubs.ClaimOf(p.res.Name)
		switch {
		case !claimed && explicit != "":
			prob("repo.keyless-unclaimed", explicit, fmt.Sprintf("no keyless publisher holds package %s, so its bundle would prove nothing to clients: grant it first (ebpfrepo publisher add NAME --identity … --issuer … --package %s)", p.res.Name, p.res.Name))
			continue
		case !claimed:
			continue
		case bundlePath == "":
			prob("repo.keyless-unsigned", p.res.Source, fmt.Sprintf("keyless publisher %s holds package %s: add its Sigstore bundle (ebpfrepo add --bundle FILE %s; cosign sign-blob --bundle, or the workflow's attestation)", g.Name, p.res.Name, p.res.Source))
			continue
		}
		data, err := readCapped(bundlePath, keyless.MaxBundleSize)
		if err != nil {
			prob("repo.keyless-bundle", bundlePath, err.Error())
			continue
		}
		ev, err := keyless.Verify(data, p.res.SHA256, st.trust, g, label+"/"+p.art)
		if err != nil {
			prob("repo.keyless-bundle", bundlePath, err.Error())
			continue
		}
		p.bundle, p.res.Keyless = data, ev
	}
	if len(problems) > 0 {
		return &InvalidError{Op: "add", Problems: problems}
	}
	return nil
}
