package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/internal/atomicfile"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

// Release is one resolved artifact: a package version for a platform.
type Release struct {
	Name       string      `json:"name"`
	Version    string      `json:"version"`
	Platform   string      `json:"platform"`
	Artifact   string      `json:"artifact"`    // file name, e.g. l3af_ratelimiting.tar.gz
	TargetPath string      `json:"target_path"` // <name>/<version>/<platform>/<artifact>
	Length     int64       `json:"length"`
	SHA256     string      `json:"sha256"`
	Yanked     *index.Yank `json:"yanked,omitempty"` // set when an exact version named a yanked one
	// Signer is who vouches for the artifact in TUF: set by Fetch and
	// Bytes from the verified metadata (the index's own record is in
	// Signatures, descriptive only).
	Signer      *index.PackageSignature `json:"signer,omitempty"`
	Signatures  *index.Signatures       `json:"signatures,omitempty"`
	Description pkgfmt.Description      `json:"description"`
}

// Resolve picks the version of package name that constraint selects for
// platform (see index.Package.Resolve for the constraint syntax: exact
// versions, ranges such as "^1.2" or ">=1.0 <2", and "latest"), from the
// verified package index. An unknown package is a *NotFoundError; no
// matching version an *index.NoMatchError; a platform the package is not
// built for an *index.PlatformError listing the supported ones.
func (c *Client) Resolve(ctx context.Context, name, constraint, platform string) (Release, error) {
	p, err := c.Info(ctx, name)
	if err != nil {
		return Release{}, err
	}
	return releaseOf(p, constraint, platform)
}

func releaseOf(p *index.Package, constraint, platform string) (Release, error) {
	v, a, err := p.Resolve(constraint, platform)
	if err != nil {
		return Release{}, err
	}
	return newRelease(p.Name, v, a), nil
}

func newRelease(name string, v *index.Version, a *index.Artifact) Release {
	return Release{
		Name: name, Version: v.Version, Platform: a.Platform, Artifact: path.Base(a.Path),
		TargetPath: a.Path, Length: a.Length, SHA256: a.SHA256, Yanked: v.Yanked, Description: *v.Describe(),
		Signatures: v.Signatures,
	}
}

// Fetch downloads rel's artifact through TUF (or takes the verified copy
// in the cache), checks that the signed target information agrees with
// the index entry, and writes it atomically to dir/rel.Artifact, which it
// returns. On any failure nothing is written to dir.
func (c *Client) Fetch(ctx context.Context, rel Release, dir string) (string, error) {
	data, err := c.artifact(ctx, rel)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("package %s@%s: %w", rel.Name, rel.Version, err)
	}
	dst := filepath.Join(dir, rel.Artifact)
	if err := atomicfile.WriteFile(dst, data, 0o644); err != nil {
		return "", fmt.Errorf("package %s@%s: %w", rel.Name, rel.Version, err)
	}
	return dst, nil
}

// Get resolves name and constraint for platform and returns the release
// with its verified artifact bytes, as one step: the index it resolves in
// and the signed information of the artifact come from one snapshot of
// the repository. When the host no longer has that snapshot's files and
// a newer one does not list the resolved version (a build removed it),
// it resolves once more against the newer index.
func (c *Client) Get(ctx context.Context, name, constraint, platform string) (Release, []byte, error) {
	for retried := false; ; retried = true {
		p, up, err := c.info(ctx, name)
		if err != nil {
			return Release{}, nil, err
		}
		rel, err := releaseOf(p, constraint, platform)
		if err != nil {
			return Release{}, nil, err
		}
		data, err := c.artifactIn(ctx, up, rel)
		var me *MismatchError
		if err != nil && !retried && errors.As(err, &me) && me.Field == "presence" {
			continue
		}
		return rel, data, err
	}
}

// Bytes returns the verified bytes of rel's artifact without writing them
// anywhere but the cache.
func (c *Client) Bytes(ctx context.Context, rel Release) ([]byte, error) {
	return c.artifact(ctx, rel)
}

// artifact returns verified artifact bytes: TUF verified length and
// hashes against the signed targets; the index entry must agree with
// the signed target info, and the bytes are hashed once more.
func (c *Client) artifact(ctx context.Context, rel Release) ([]byte, error) {
	return c.artifactIn(ctx, nil, rel)
}

// artifactIn is artifact that looks rel up in the session in first (see
// targetInfoIn); nil means a refreshed one.
func (c *Client) artifactIn(ctx context.Context, in *Updater, rel Release) ([]byte, error) {
	for _, x := range [][2]string{{"name", rel.Name}, {"version", rel.Version}, {"platform", rel.Platform}, {"artifact", rel.Artifact}} {
		if err := checkComponent(x[0], x[1]); err != nil {
			return nil, fmt.Errorf("release: %w", err)
		}
	}
	if want := rel.Name + "/" + rel.Version + "/" + rel.Platform + "/" + rel.Artifact; rel.TargetPath != want {
		return nil, fmt.Errorf("release: target path %q, want %q", rel.TargetPath, want)
	}
	c.mu.Lock()
	retried := false
again:
	up, tf, err := c.targetInfoIn(ctx, in, rel.TargetPath)
	if err != nil {
		c.mu.Unlock()
		var nf *NotFoundError
		if errors.As(err, &nf) {
			// The signed index lists it, the signed targets do not.
			return nil, &MismatchError{Target: rel.TargetPath, Field: "presence", Index: "listed", Signed: "no such target"}
		}
		return nil, fmt.Errorf("package %s@%s: %w", rel.Name, rel.Version, err)
	}
	if tf.Length != rel.Length {
		c.mu.Unlock()
		return nil, &MismatchError{Target: rel.TargetPath, Field: "length", Index: strconv.FormatInt(rel.Length, 10), Signed: strconv.FormatInt(tf.Length, 10)}
	}
	if h := hex.EncodeToString(tf.Hashes["sha256"]); h != rel.SHA256 {
		c.mu.Unlock()
		if h == "" {
			h = "no sha256"
		}
		return nil, &MismatchError{Target: rel.TargetPath, Field: "sha256", Index: rel.SHA256, Signed: h}
	}
	sig, err := c.keylessSigner(ctx, up, rel, rel.SHA256, signerOf(up.SignerChain(rel.TargetPath)))
	if err == nil {
		err = c.checkPolicy(rel, sig)
	}
	if err != nil {
		c.mu.Unlock()
		return nil, err
	}
	c.mu.Unlock()
	// The transfer runs without the lock, bound to the caller's context;
	// concurrent requests for one artifact share one transfer.
	// The shared transfer does not end with the first caller's context
	// (the fetcher's idle and request timeouts end it); each caller
	// stops waiting at its own.
	ch := c.flights.DoChan(tf.Path+"@"+rel.SHA256, func() (any, error) {
		return up.DownloadContext(context.WithoutCancel(ctx), tf)
	})
	var data []byte
	select {
	case res := <-ch:
		data, _ = res.Val.([]byte)
		err = res.Err
	case <-ctx.Done():
		return nil, fmt.Errorf("package %s@%s: artifact %s: %w", rel.Name, rel.Version, rel.TargetPath, ctx.Err())
	}
	if err != nil && !retried && gone(err) {
		c.mu.Lock()
		if c.up == up {
			c.up = nil // refresh once: a newer build replaced it
		}
		in, retried = nil, true
		goto again
	}
	if err != nil {
		return nil, fmt.Errorf("package %s@%s: artifact %s: %w", rel.Name, rel.Version, rel.TargetPath, err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != rel.SHA256 {
		return nil, &MismatchError{Target: rel.TargetPath, Field: "sha256", Index: rel.SHA256, Signed: hex.EncodeToString(sum[:]) + " (read)"}
	}
	if err := c.checkEvidence(ctx, rel, data); err != nil {
		return nil, err
	}
	return data, nil
}
