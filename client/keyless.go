package client

import (
	"context"
	"fmt"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/keyless"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// A keyless publisher's package sits in the unclaimed role's bins, like
// any repository-signed one; what makes it its publisher's is a
// Sigstore bundle (the target <artifact>.sigstore.json) that verifies,
// offline, against the trusted root and the grants the top-level
// targets role — offline, CI cannot sign it — lists itself. The client
// never fetches a Sigstore root: it takes the repository's, through TUF.

// KeylessError is a keyless publisher's package whose bundle is missing
// or does not verify: refused whatever the policy, as a TUF failure
// would be (the publisher's grant says only its identities may vouch
// for the package).
type KeylessError struct {
	Package   string // name@version
	Publisher string
	Target    string // the artifact target
	Err       error  // a *keyless.VerifyError, or why the bundle is missing
}

func (e *KeylessError) Error() string {
	return fmt.Sprintf("package %s: keyless publisher %s holds it: %v; not installed", e.Package, e.Publisher, e.Err)
}

func (e *KeylessError) Unwrap() error { return e.Err }

func (e *KeylessError) Is(target error) bool { return target == ErrVerification }

// keylessFiles are the keyless grants and trusted root of one TUF
// session, by the hashes targets signs for them.
type keylessFiles struct {
	key   string
	pubs  *keyless.Publishers
	trust *keyless.TrustRoot
}

// keylessGrants returns the verified keyless files of up's repository
// (nil when targets lists none); c.mu must be held.
func (c *Client) keylessGrants(ctx context.Context, up *Updater) (*keylessFiles, error) {
	top := up.up.GetTopLevelTargets()
	ptf, ttf := top[layout.KeylessTarget(layout.KeylessPublishers)], top[layout.KeylessTarget(layout.KeylessTrustRoot)]
	if ptf == nil {
		return nil, nil
	}
	key := fmt.Sprintf("%x", ptf.Hashes["sha256"])
	if ttf != nil {
		key += fmt.Sprintf(" %x", ttf.Hashes["sha256"])
	}
	if c.keyless != nil && c.keyless.key == key {
		return c.keyless, nil
	}
	kf := &keylessFiles{key: key}
	data, err := c.smallTarget(ctx, up, ptf, keyless.MaxPublishersSize)
	if err != nil {
		return nil, err
	}
	if kf.pubs, err = keyless.ParsePublishers(data); err != nil {
		return nil, &VerificationError{Err: err}
	}
	if ttf != nil {
		if data, err = c.smallTarget(ctx, up, ttf, keyless.MaxTrustRootSize); err != nil {
			return nil, err
		}
		if kf.trust, err = keyless.ParseTrustRoot(data); err != nil {
			return nil, &VerificationError{Err: err}
		}
	}
	c.keyless = kf
	return kf, nil
}

// smallTarget downloads a target TUF signs with a length of at most max.
func (c *Client) smallTarget(ctx context.Context, up *Updater, tf *metadata.TargetFiles, max int64) ([]byte, error) {
	if tf.Length > max {
		return nil, &VerificationError{Err: fmt.Errorf("target %s: %d bytes signed, more than the limit of %d", tf.Path, tf.Length, max)}
	}
	return up.DownloadContext(ctx, tf)
}

// keylessSigner returns who vouches for rel when a keyless publisher
// holds its package: the publisher, with what its bundle proved; sig
// unchanged otherwise. sha256hex is the artifact's, as TUF signs it.
// c.mu must be held.
func (c *Client) keylessSigner(ctx context.Context, up *Updater, rel Release, sha256hex string, sig index.PackageSignature) (index.PackageSignature, error) {
	if sig.Signer == index.SignerPublisher {
		return sig, nil // a keyed publisher's role: TUF settled it
	}
	kf, err := c.keylessGrants(ctx, up)
	if err != nil || kf == nil {
		return sig, err
	}
	g, ok := kf.pubs.ClaimOf(rel.Name)
	if !ok {
		return sig, nil
	}
	label := rel.Name + "@" + rel.Version
	fail := func(err error) error {
		return &KeylessError{Package: label, Publisher: g.Name, Target: rel.TargetPath, Err: err}
	}
	if kf.trust == nil {
		return sig, fail(fmt.Errorf("the repository pins no Sigstore trusted root"))
	}
	bt := layout.BundleTarget(rel.TargetPath)
	btf, err := up.TargetInfo(bt)
	if err != nil {
		return sig, fail(fmt.Errorf("bundle %s: %w", bt, err))
	}
	data, err := c.smallTarget(ctx, up, btf, keyless.MaxBundleSize)
	if err != nil {
		return sig, fail(fmt.Errorf("bundle %s: %w", bt, err))
	}
	ev, err := keyless.Verify(data, sha256hex, kf.trust, g, label+"/"+rel.Artifact)
	if err != nil {
		return sig, fail(err)
	}
	return index.PackageSignature{Signer: index.SignerPublisher, Publisher: g.Name, Role: sig.Role, Keyless: ev}, nil
}
