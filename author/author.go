package author

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ebpfrepo/ebpfrepo/client"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
	"github.com/ebpfrepo/ebpfrepo/tufrepo"
)

// Keygen writes a new ed25519 key pair into dir: <name>.pem (the private
// key, PKCS#8 PEM, mode 0600: keep it to yourself) and <name>.pub.pem
// (the public key, PEM "PUBLIC KEY": give it to the repository's
// maintainers for ebpfrepo publisher add). It refuses to overwrite.
func Keygen(dir, name string) (privPath, pubPath string, err error) {
	if name == "" {
		name = "publisher"
	}
	privPath, pubPath = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".pub.pem")
	for _, p := range []string{privPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return "", "", fmt.Errorf("keygen: %s exists: refusing to overwrite a key", p)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("keygen: %w", err)
	}
	k, err := tufrepo.GenerateKey()
	if err != nil {
		return "", "", err
	}
	if err := k.WriteFile(privPath); err != nil {
		return "", "", fmt.Errorf("keygen: %w", err)
	}
	pub, err := k.PublicPEM()
	if err != nil {
		return "", "", err
	}
	if err := os.WriteFile(pubPath, pub, 0o644); err != nil {
		return "", "", fmt.Errorf("keygen: %w", err)
	}
	return privPath, pubPath, nil
}

// SignOptions configures Sign.
type SignOptions struct {
	Publisher string // the granted publisher's name
	KeyFile   string // private key (PKCS#8 PEM: ed25519, or ECDSA P-256)
	// Repo is where the current role is read from: a repository URL
	// (http, https, file; verified through TUF from Root) or the
	// directory of a repository (its metadata of record).
	Repo     string
	Root     []byte // pinned root.json, for a URL
	CacheDir string // client cache, for a URL ("" = the default)
	Expires  time.Duration
	Now      time.Time // zero: the current time
}

// Signed says what Sign vouched for.
type Signed struct {
	Publisher string           `json:"publisher"`
	Version   int64            `json:"version"`
	Expires   time.Time        `json:"expires"`
	Added     []tufrepo.Target `json:"added"` // one per artifact and platform
	Targets   int              `json:"targets"`
}

// Sign returns the next version of the publisher's role: every target the
// repository's current role lists, plus each artifact under every
// platform its manifest declares (<name>/<version>/<platform>/<artifact>,
// its length and sha256), signed with the author's key. Submit the file,
// named pub-<publisher>.json, with the artifacts.
func Sign(ctx context.Context, artifacts []string, opts SignOptions) ([]byte, *Signed, error) {
	signer, err := tufrepo.LoadSigner(opts.KeyFile)
	if err != nil {
		return nil, nil, err
	}
	var add []tufrepo.Target
	for _, a := range artifacts {
		ts, err := targetsOf(ctx, a)
		if err != nil {
			return nil, nil, err
		}
		add = append(add, ts...)
	}
	cur, err := currentRole(ctx, opts)
	if err != nil {
		return nil, nil, err
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	exp := opts.Expires
	if exp == 0 {
		exp = tufrepo.DefaultPublisherExpiry
	}
	md, err := tufrepo.NextPublisherRole(cur, add, now.Add(exp))
	if err != nil {
		return nil, nil, fmt.Errorf("sign: %w", err)
	}
	raw, err := tufrepo.SignRole(md, signer)
	if err != nil {
		return nil, nil, err
	}
	return raw, &Signed{Publisher: opts.Publisher, Version: md.Signed.Version, Expires: md.Signed.Expires, Added: add, Targets: len(md.Signed.Targets)}, nil
}

// AddSignature adds the signature of keyFile's key to a role file (a
// co-signer of a threshold role).
func AddSignature(raw []byte, keyFile string) ([]byte, error) {
	signer, err := tufrepo.LoadSigner(keyFile)
	if err != nil {
		return nil, err
	}
	return tufrepo.AddSignature(raw, signer)
}

// targetsOf reads an artifact, checks it is a valid package, and returns
// its TUF targets: one per platform.
func targetsOf(ctx context.Context, path string) ([]tufrepo.Target, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", path, err)
	}
	c, err := pkgfmt.ReadArtifact(ctx, path, bytes.NewReader(data), int64(len(data)), pkgfmt.Limits{})
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", path, err)
	}
	d := pkgfmt.Describe(ctx, c, pkgfmt.LintOptions{})
	if errs := d.Errors(); len(errs) > 0 {
		return nil, fmt.Errorf("sign %s: the package has errors (ebpfrepo lint says which): %s", path, errs[0])
	}
	m := d.Manifest
	if filepath.Base(path) != m.Artifact {
		return nil, fmt.Errorf("sign %s: the manifest's artifact is %q: sign the file under its published name", path, m.Artifact)
	}
	sum := sha256.Sum256(data)
	var out []tufrepo.Target
	for _, p := range m.Platforms {
		out = append(out, tufrepo.Target{Path: layout.ArtifactTarget(m.Name, m.Version, p, m.Artifact), Length: int64(len(data)), SHA256: hex.EncodeToString(sum[:])})
	}
	return out, nil
}

// currentRole reads the publisher's current role from the repository: nil
// when it has signed nothing yet.
func currentRole(ctx context.Context, opts SignOptions) ([]byte, error) {
	if fi, err := os.Stat(opts.Repo); err == nil && fi.IsDir() {
		tr, err := tufrepo.Load(ctx, layout.RepoDir(opts.Repo).Metadata(), tufrepo.Options{})
		if err != nil {
			return nil, fmt.Errorf("sign: %w", err)
		}
		if !granted(tr, opts.Publisher) {
			return nil, fmt.Errorf("sign: repository %s grants no publisher %q (the maintainers grant it with ebpfrepo publisher add)", opts.Repo, opts.Publisher)
		}
		if pr, ok := tr.PublisherRoleOf(opts.Publisher); ok {
			return pr.Raw(), nil
		}
		return nil, nil
	}
	if len(opts.Root) == 0 {
		return nil, errors.New("sign: --root is required with a repository URL (the pinned root.json)")
	}
	c, err := client.New(client.Options{RepoURL: opts.Repo, TrustedRoot: opts.Root, CacheDir: opts.CacheDir, UserAgent: "ebpfrepo"})
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	raw, err := c.PublisherRole(ctx, opts.Publisher)
	if err != nil {
		return nil, fmt.Errorf("sign: publisher %s: %w", opts.Publisher, err)
	}
	return raw, nil
}

func granted(tr *tufrepo.Repo, publisher string) bool {
	for _, g := range tr.Grants() {
		if g.Publisher == publisher {
			return true
		}
	}
	return false
}
