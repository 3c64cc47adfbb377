package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/layout"
)

// Verified is what VerifyArtifact found for a local artifact file.
type Verified struct {
	Targets []string               `json:"targets"` // the TUF targets it is, one per platform
	Length  int64                  `json:"length"`
	SHA256  string                 `json:"sha256"`
	Signer  index.PackageSignature `json:"signer"`
	Roles   []index.RoleInfo       `json:"roles"` // the delegated roles that vouch for it
}

// VerifyArtifact checks artifact bytes a caller already has (a file
// someone handed over, a copy in a cache) against the repository: for
// every platform, the target <name>/<version>/<platform>/<artifact> must
// be signed with exactly this length and sha256. An unknown target is a
// *NotFoundError; other bytes a *MismatchError (both match
// ErrVerification); a signer the policy does not accept a *PolicyError.
func (c *Client) VerifyArtifact(ctx context.Context, name, version, artifact string, platforms []string, data []byte) (*Verified, error) {
	sum := sha256.Sum256(data)
	v := &Verified{Length: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
	if len(platforms) == 0 {
		return nil, fmt.Errorf("package %s@%s: no platforms to check", name, version)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var up *Updater
	for _, p := range platforms {
		tp := layout.ArtifactTarget(name, version, p, artifact)
		var tf *metadata.TargetFiles
		var err error
		up, tf, err = c.targetInfo(ctx, tp)
		if err != nil {
			return nil, err
		}
		if tf.Length != v.Length {
			return nil, &MismatchError{Target: tp, Field: "length", Index: strconv.FormatInt(v.Length, 10) + " (file)", Signed: strconv.FormatInt(tf.Length, 10)}
		}
		if h := hex.EncodeToString(tf.Hashes["sha256"]); h != v.SHA256 {
			return nil, &MismatchError{Target: tp, Field: "sha256", Index: v.SHA256 + " (file)", Signed: h}
		}
		chain := up.SignerChain(tp)
		rel := Release{Name: name, Version: version, Platform: p, Artifact: artifact, TargetPath: tp}
		sig, err := c.keylessSigner(ctx, up, rel, v.SHA256, signerOf(chain))
		if err != nil {
			return nil, err
		}
		if err := c.checkPolicy(rel, sig); err != nil {
			return nil, err
		}
		v.Targets = append(v.Targets, tp)
		v.Signer, v.Roles = sig, chain
	}
	if err := c.checkEvidence(ctx, Release{Name: name, Version: version, Artifact: artifact}, data); err != nil {
		return nil, err
	}
	return v, nil
}
