package tufrepo

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// The author's side of a publisher role: an author builds the next
// version of pub-<publisher>.json on their own machine, with their own
// key, and submits it with the artifacts. The repository verifies it
// (VerifyPublisherRole) and never re-signs it.

// maxRoleFile bounds a publisher role file read from a stranger.
const maxRoleFile = 16 << 20

// DefaultPublisherExpiry is how long a publisher role is valid when the
// author does not say.
const DefaultPublisherExpiry = 365 * 24 * time.Hour

// NextPublisherRole returns the next version of a publisher's role:
// every target of current (nil: none yet, version 1) plus add, which may
// repeat a current target only with the same length and sha256 (a
// published version is immutable), version+1, expiring at expires (UTC,
// whole seconds). It is unsigned.
func NextPublisherRole(current []byte, add []Target, expires time.Time) (*metadata.Metadata[metadata.TargetsType], error) {
	md := metadata.Targets(expires.UTC().Truncate(time.Second))
	if current != nil {
		cur, err := new(metadata.Metadata[metadata.TargetsType]).FromBytes(current)
		if err != nil {
			return nil, fmt.Errorf("tufrepo: current publisher role: %w", err)
		}
		md.Signed.Version = cur.Signed.Version + 1
		for p, tf := range cur.Signed.Targets {
			md.Signed.Targets[p] = tf
		}
	}
	for i := range add {
		t := &add[i]
		sum, err := checkTarget(t)
		if err != nil {
			return nil, err
		}
		if old, ok := md.Signed.Targets[t.Path]; ok {
			if old.Length != t.Length || hex.EncodeToString(old.Hashes["sha256"]) != t.SHA256 {
				return nil, &TargetError{Path: t.Path, Field: "sha256", Msg: "already signed with other bytes: a published version is immutable, sign a new version"}
			}
			continue
		}
		md.Signed.Targets[t.Path] = &metadata.TargetFiles{Length: t.Length, Hashes: metadata.Hashes{"sha256": sum[:]}, Path: t.Path}
	}
	return md, nil
}

// SignRole signs md with every signer (earlier signatures are dropped)
// and returns the file to publish.
func SignRole(md *metadata.Metadata[metadata.TargetsType], signers ...signature.Signer) ([]byte, error) {
	md.ClearSignatures()
	for _, s := range signers {
		if _, err := md.Sign(s); err != nil {
			return nil, fmt.Errorf("tufrepo: sign: %w", err)
		}
	}
	return md.ToBytes(false)
}

// AddSignature adds a co-signer's signature to a signed role file (a
// threshold role): the content is unchanged.
func AddSignature(raw []byte, s signature.Signer) ([]byte, error) {
	md, err := new(metadata.Metadata[metadata.TargetsType]).FromBytes(raw)
	if err != nil {
		return nil, fmt.Errorf("tufrepo: role file: %w", err)
	}
	pub, err := s.PublicKey()
	if err != nil {
		return nil, err
	}
	k, err := PublicKey(pub)
	if err != nil {
		return nil, err
	}
	id, err := k.ID()
	if err != nil {
		return nil, err
	}
	md.Signatures = slices.DeleteFunc(md.Signatures, func(sig metadata.Signature) bool { return sig.KeyID == id })
	if _, err := md.Sign(s); err != nil {
		return nil, fmt.Errorf("tufrepo: sign: %w", err)
	}
	return md.ToBytes(false)
}

// ReadRoleFile reads a role file offered by a stranger, bounded in size.
func ReadRoleFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRoleFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxRoleFile {
		return nil, fmt.Errorf("%s: more than %d bytes", path, maxRoleFile)
	}
	return data, nil
}

// LoadSigner reads a private key file (PKCS#8 PEM "PRIVATE KEY": ed25519
// as ebpfrepo publisher keygen writes, or ECDSA P-256) for signing.
func LoadSigner(path string) (signature.Signer, error) {
	block, err := readKeyBlock(path, pemType, "PKCS#8", true)
	if err != nil {
		return nil, err
	}
	priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, &KeyError{Source: path, Err: err}
	}
	switch k := priv.(type) {
	case ed25519.PrivateKey:
		return signature.LoadED25519Signer(k)
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, &KeyError{Source: path, Err: errors.New("ECDSA key: want curve P-256")}
		}
		return signature.LoadECDSASigner(k, crypto.SHA256)
	}
	return nil, &KeyError{Source: path, Err: fmt.Errorf("key of type %T: want ed25519 or ECDSA P-256", priv)}
}

// LoadPublicKey reads a public key file (PEM "PUBLIC KEY", PKIX: ed25519
// or ECDSA P-256) as a TUF key.
func LoadPublicKey(path string) (*metadata.Key, error) {
	block, err := readKeyBlock(path, "PUBLIC KEY", "the .pub.pem file ebpfrepo publisher keygen writes", false)
	if err != nil {
		return nil, err
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, &KeyError{Source: path, Err: err}
	}
	k, err := PublicKey(pub)
	if err != nil {
		return nil, &KeyError{Source: path, Err: err}
	}
	return k, nil
}

// readKeyBlock reads the one PEM block of type typ a key file holds,
// bounded in size; a private key readable by group or others is refused,
// as LoadKeyFile refuses it.
func readKeyBlock(path, typ, hint string, private bool) (*pem.Block, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, &KeyError{Source: path, Err: err}
	}
	if private && fi.Mode().Perm()&0o077 != 0 {
		return nil, &KeyError{Source: path, Err: fmt.Errorf("mode %04o lets group or others access a private key; run `chmod 600 %s`", fi.Mode().Perm(), path)}
	}
	if fi.Size() > maxKeyFile {
		return nil, &KeyError{Source: path, Err: errors.New("too large for a key file")}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &KeyError{Source: path, Err: err}
	}
	block, rest := pem.Decode(data)
	if block == nil || block.Type != typ || len(trimSpace(rest)) != 0 {
		return nil, &KeyError{Source: path, Err: fmt.Errorf("want one PEM %q block (%s)", typ, hint)}
	}
	return block, nil
}

// PublicPEM is the PEM "PUBLIC KEY" (PKIX) form of k's public key.
func (k *Key) PublicPEM() ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\n' || b[0] == '\r' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}
