package tufrepo

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// maxKeyFile bounds what LoadKeyFile and the environment may hand to
// ParseKeys: a PEM ed25519 key is 119 bytes.
const maxKeyFile = 64 << 10

// pemType is the PEM block type of a PKCS#8 private key, as written by
// `openssl genpkey -algorithm ed25519`.
const pemType = "PRIVATE KEY"

// Key is an ed25519 signing key. Its file format is a PKCS#8 PEM block
// "PRIVATE KEY", the format `openssl genpkey -algorithm ed25519` writes.
type Key struct {
	Private ed25519.PrivateKey
}

// KeyError is a problem with a private key file or value: Source names
// the file or environment variable.
type KeyError struct {
	Source string
	Err    error
}

func (e *KeyError) Error() string { return fmt.Sprintf("tufrepo: key %s: %v", e.Source, e.Err) }
func (e *KeyError) Unwrap() error { return e.Err }

// GenerateKey returns a new random ed25519 key.
func GenerateKey() (*Key, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tufrepo: generate key: %w", err)
	}
	return &Key{Private: priv}, nil
}

// ParseKey parses one PEM "PRIVATE KEY" block holding a PKCS#8 ed25519
// key. Anything but white space around the block is refused.
func ParseKey(data []byte) (*Key, error) {
	keys, err := ParseKeys(data)
	if err != nil {
		return nil, err
	}
	if len(keys) != 1 {
		return nil, fmt.Errorf("tufrepo: parse key: %d PEM blocks, want exactly one", len(keys))
	}
	return keys[0], nil
}

// ParseKeys parses one or more concatenated PEM "PRIVATE KEY" blocks
// (several root keys in one environment variable).
func ParseKeys(data []byte) ([]*Key, error) {
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("tufrepo: parse key: %d bytes, more than the %d a key file may hold", len(data), maxKeyFile)
	}
	var keys []*Key
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != pemType {
			return nil, fmt.Errorf("tufrepo: parse key: PEM block %q, want %q (PKCS#8; `openssl genpkey -algorithm ed25519` writes it)", b.Type, pemType)
		}
		if len(b.Headers) != 0 {
			return nil, errors.New("tufrepo: parse key: encrypted or annotated PEM blocks are not supported; store the key unencrypted with mode 0600")
		}
		pk, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("tufrepo: parse key: PKCS#8: %w", err)
		}
		priv, ok := pk.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("tufrepo: parse key: %T, want an ed25519 key", pk)
		}
		keys = append(keys, &Key{Private: priv})
	}
	if len(keys) == 0 {
		return nil, errors.New("tufrepo: parse key: no PEM \"PRIVATE KEY\" block found")
	}
	for _, c := range rest {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return nil, errors.New("tufrepo: parse key: data after the last PEM block")
		}
	}
	return keys, nil
}

// LoadKeyFile reads a key file written by WriteFile (or openssl). A file
// that group or others may read or write is refused: its key must be
// considered exposed, or at least the mode fixed with chmod 600.
func LoadKeyFile(path string) (*Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &KeyError{Source: path, Err: err}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, &KeyError{Source: path, Err: err}
	}
	if !fi.Mode().IsRegular() {
		return nil, &KeyError{Source: path, Err: errors.New("not a regular file")}
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, &KeyError{Source: path, Err: fmt.Errorf("mode %04o lets group or others access a private key; run `chmod 600 %s` (and consider the key exposed if others could read it)", perm, path)}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, &KeyError{Source: path, Err: err}
	}
	k, err := ParseKey(data)
	if err != nil {
		return nil, &KeyError{Source: path, Err: err}
	}
	return k, nil
}

// PEM returns the key as a PKCS#8 PEM "PRIVATE KEY" block.
func (k *Key) PEM() ([]byte, error) {
	if err := k.check(); err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.Private)
	if err != nil {
		return nil, fmt.Errorf("tufrepo: encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: der}), nil
}

// WriteFile writes the key to path with mode 0600, atomically, and
// refuses to overwrite an existing file.
func (k *Key) WriteFile(path string) error {
	data, err := k.PEM()
	if err != nil {
		return err
	}
	if _, err := os.Lstat(path); err == nil {
		return &KeyError{Source: path, Err: errors.New("file exists; refusing to overwrite a key (move it away first)")}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".key-*.tmp")
	if err != nil {
		return &KeyError{Source: path, Err: err}
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return &KeyError{Source: path, Err: err}
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return &KeyError{Source: path, Err: err}
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return &KeyError{Source: path, Err: err}
	}
	if err := tmp.Close(); err != nil {
		return &KeyError{Source: path, Err: err}
	}
	// A hard link publishes the complete file and fails if path exists.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return &KeyError{Source: path, Err: errors.New("file exists; refusing to overwrite a key (move it away first)")}
		}
		return &KeyError{Source: path, Err: err}
	}
	return nil
}

func (k *Key) check() error {
	if k == nil || len(k.Private) != ed25519.PrivateKeySize {
		return errors.New("tufrepo: invalid ed25519 key")
	}
	return nil
}

// Public returns the public half of the key.
func (k *Key) Public() ed25519.PublicKey {
	if k.check() != nil {
		return nil
	}
	return k.Private.Public().(ed25519.PublicKey)
}

// TUFKey returns the public key as TUF metadata (keytype and scheme
// ed25519, hex public value).
func (k *Key) TUFKey() (*metadata.Key, error) {
	if err := k.check(); err != nil {
		return nil, err
	}
	return metadata.KeyFromPublicKey(k.Public())
}

// ID returns the TUF key ID: the hex sha256 of the canonical JSON of the
// public key. It is "" for an invalid key.
func (k *Key) ID() string {
	tk, err := k.TUFKey()
	if err != nil {
		return ""
	}
	id, err := tk.ID()
	if err != nil {
		return ""
	}
	return id
}

// String returns the key ID, shortened: never the private key.
func (k *Key) String() string {
	id := k.ID()
	if len(id) > 16 {
		id = id[:16]
	}
	return "ed25519:" + id
}

func (k *Key) signer() (signature.Signer, error) {
	if err := k.check(); err != nil {
		return nil, err
	}
	return signature.LoadSigner(k.Private, crypto.Hash(0))
}

// shortID is a key ID prefix for messages.
func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	if _, err := hex.DecodeString(id); err != nil {
		return fmt.Sprintf("%q", id)
	}
	return id
}
