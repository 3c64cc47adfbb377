package tufrepo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Role names. RoleBins is the succinct hashed-bin delegation of targets:
// its bins are named "bins-0" … or "bins-00" … by go-tuf's SuccinctRoles
// and all share the bins key.
const (
	RoleRoot      = "root"
	RoleTargets   = "targets"
	RoleBins      = "bins"
	RoleSnapshot  = "snapshot"
	RoleTimestamp = "timestamp"
)

// KeyRoles lists the roles that have keys, in the order tools show them.
var KeyRoles = []string{RoleRoot, RoleTargets, RoleBins, RoleSnapshot, RoleTimestamp}

func validRole(role string) bool { return slices.Contains(KeyRoles, role) }

// EnvVar is the environment variable LoadKeyring reads role's key(s)
// from: EBPFREPO_ROOT_KEY, EBPFREPO_TARGETS_KEY, EBPFREPO_BINS_KEY,
// EBPFREPO_SNAPSHOT_KEY, EBPFREPO_TIMESTAMP_KEY. Its value is the PEM
// text itself (several concatenated blocks for several root keys).
func EnvVar(role string) string { return "EBPFREPO_" + strings.ToUpper(role) + "_KEY" }

// KeyFile is the name, inside the keys directory, of role's i-th key
// (from 0): "timestamp.pem"; root keys are "root.pem", "root-2.pem",
// "root-3.pem" …
func KeyFile(role string, i int) string {
	if i == 0 {
		return role + ".pem"
	}
	return fmt.Sprintf("%s-%d.pem", role, i+1)
}

// Keyring holds the private keys at hand, per role. Which keys it must
// hold depends on what is signed: see docs/keys.md.
type Keyring struct {
	keys map[string][]*Key
	dir  string // where LoadKeyring looked, for error messages
}

// NewKeyring returns an empty keyring.
func NewKeyring() *Keyring { return &Keyring{keys: map[string][]*Key{}} }

// Add adds k to role's keys (a key already there is not added twice;
// an invalid key is ignored).
func (kr *Keyring) Add(role string, k *Key) {
	if k.check() != nil {
		return
	}
	if kr.keys == nil {
		kr.keys = map[string][]*Key{}
	}
	id := k.ID()
	for _, o := range kr.keys[role] {
		if o.ID() == id {
			return
		}
	}
	kr.keys[role] = append(kr.keys[role], k)
}

// Keys returns role's keys.
func (kr *Keyring) Keys(role string) []*Key {
	if kr == nil {
		return nil
	}
	return kr.keys[role]
}

// Dir is the keys directory LoadKeyring read ("" if none).
func (kr *Keyring) Dir() string {
	if kr == nil {
		return ""
	}
	return kr.dir
}

// With returns a copy of the keyring in which role has the keys ks
// instead of its own.
func (kr *Keyring) With(role string, ks ...*Key) *Keyring {
	c := NewKeyring()
	if kr != nil {
		c.dir = kr.dir
		for r, l := range kr.keys {
			c.keys[r] = slices.Clone(l)
		}
	}
	c.keys[role] = nil
	for _, k := range ks {
		c.Add(role, k)
	}
	return c
}

// LoadKeyring reads the keys of dir: <role>.pem for each role, and for
// root also root-2.pem, root-3.pem …; a missing file is no error (keys
// kept offline are simply absent). An environment variable EnvVar(role)
// that is set and non-empty replaces the file keys of its role, so CI
// can pass online keys as secrets. dir "" or a missing dir means keys
// from the environment only.
func LoadKeyring(dir string) (*Keyring, error) {
	kr := NewKeyring()
	kr.dir = dir
	for _, role := range KeyRoles {
		if v := os.Getenv(EnvVar(role)); strings.TrimSpace(v) != "" {
			ks, err := ParseKeys([]byte(v))
			if err != nil {
				return nil, &KeyError{Source: "$" + EnvVar(role), Err: err}
			}
			for _, k := range ks {
				kr.Add(role, k)
			}
			continue
		}
		if dir == "" {
			continue
		}
		files, err := keyFiles(dir, role)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			k, err := LoadKeyFile(f)
			if err != nil {
				return nil, err
			}
			kr.Add(role, k)
		}
	}
	return kr, nil
}

// keyFiles lists the existing key files of role in dir, in order.
func keyFiles(dir, role string) ([]string, error) {
	var out []string
	p := filepath.Join(dir, KeyFile(role, 0))
	if _, err := os.Lstat(p); err == nil {
		out = append(out, p)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, &KeyError{Source: p, Err: err}
	}
	if role != RoleRoot {
		return out, nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return out, nil
		}
		return nil, &KeyError{Source: dir, Err: err}
	}
	type numbered struct {
		n    int
		path string
	}
	var more []numbered
	for _, e := range ents {
		s, ok := strings.CutPrefix(e.Name(), role+"-")
		if !ok {
			continue
		}
		s, ok = strings.CutSuffix(s, ".pem")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 2 {
			continue
		}
		more = append(more, numbered{n, filepath.Join(dir, e.Name())})
	}
	slices.SortFunc(more, func(a, b numbered) int { return a.n - b.n })
	for _, m := range more {
		out = append(out, m.path)
	}
	return out, nil
}

// CreateKeys generates a fresh key for every role (rootKeys root keys,
// at least one) and writes them into dir, which is created with mode
// 0700; key files are 0600 and existing files are never overwritten.
func CreateKeys(dir string, rootKeys int) (*Keyring, error) {
	if rootKeys < 1 {
		rootKeys = 1
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, &KeyError{Source: dir, Err: err}
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, &KeyError{Source: dir, Err: err}
	}
	kr := NewKeyring()
	kr.dir = dir
	for _, role := range KeyRoles {
		n := 1
		if role == RoleRoot {
			n = rootKeys
		}
		for i := range n {
			k, err := GenerateKey()
			if err != nil {
				return nil, err
			}
			if err := k.WriteFile(filepath.Join(dir, KeyFile(role, i))); err != nil {
				return nil, err
			}
			kr.Add(role, k)
		}
	}
	return kr, nil
}

// MissingKeyError says that a role must sign but the keyring has no key
// for it, and where the key is looked for.
type MissingKeyError struct {
	Role string
	File string // the key file LoadKeyring reads
	Env  string // the environment variable LoadKeyring reads
}

func (e *MissingKeyError) Error() string {
	return fmt.Sprintf("tufrepo: role %s must sign but no private key for it is at hand: put it in %s (mode 0600) or set %s to its PEM text",
		e.Role, e.File, e.Env)
}

// WrongKeyError says that the keys at hand for a role are not enough of
// the keys the role is trusted with (a stale or foreign key file).
type WrongKeyError struct {
	Role      string
	Have      []string // key IDs at hand
	Want      []string // key IDs the role trusts
	Threshold int
}

func (e *WrongKeyError) Error() string {
	short := func(ids []string) string {
		s := make([]string, len(ids))
		for i, id := range ids {
			s[i] = shortID(id)
		}
		return strings.Join(s, ", ")
	}
	return fmt.Sprintf("tufrepo: role %s: the keys at hand (%s) are not %d of the role's trusted keys (%s): load the role's current key, or rotate it first",
		e.Role, short(e.Have), e.Threshold, short(e.Want))
}

// signers returns the keys of role at hand that are among want, sorted
// by key ID, or an error if there are fewer than threshold. keyRole is
// the keyring role (RoleBins for a bin).
func (kr *Keyring) signers(keyRole, role string, want []string, threshold int) ([]*Key, error) {
	have := kr.Keys(keyRole)
	if len(have) == 0 {
		dir := kr.Dir()
		if dir == "" {
			dir = "keys"
		}
		return nil, &MissingKeyError{Role: keyRole, File: filepath.Join(dir, KeyFile(keyRole, 0)), Env: EnvVar(keyRole)}
	}
	var out []*Key
	var ids []string
	for _, k := range have {
		id := k.ID()
		ids = append(ids, id)
		if slices.Contains(want, id) {
			out = append(out, k)
		}
	}
	if len(out) < threshold || len(out) == 0 {
		return nil, &WrongKeyError{Role: role, Have: ids, Want: want, Threshold: threshold}
	}
	slices.SortFunc(out, func(a, b *Key) int { return strings.Compare(a.ID(), b.ID()) })
	return out, nil
}
