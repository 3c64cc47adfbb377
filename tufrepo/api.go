package tufrepo

// STUB: the API contract; tufrepo.go, keys.go etc. replace this file.

import (
	"context"
	"crypto/ed25519"
	"errors"
	"time"
)

var errStub = errors.New("tufrepo: not implemented yet")

// Role names.
const (
	RoleRoot      = "root"
	RoleTargets   = "targets"
	RoleBins      = "bins"
	RoleSnapshot  = "snapshot"
	RoleTimestamp = "timestamp"
)

// Key is an ed25519 signing key.
type Key struct{ Private ed25519.PrivateKey }

func GenerateKey() (*Key, error)               { return nil, errStub }
func ParseKey(data []byte) (*Key, error)       { return nil, errStub }
func LoadKeyFile(path string) (*Key, error)    { return nil, errStub }
func (k *Key) WriteFile(path string) error     { return errStub }
func (k *Key) ID() string                      { return "" }
func NewKeyring() *Keyring                     { return &Keyring{} }
func (kr *Keyring) Add(role string, k *Key)    {}
func LoadKeyring(dir string) (*Keyring, error) { return nil, errStub }

// Keyring holds the private keys at hand, per role.
type Keyring struct{ keys map[string][]*Key }

// Config sets expiry periods, bins and root threshold. Zero means default.
type Config struct {
	RootExpiry, TargetsExpiry, BinsExpiry, SnapshotExpiry, TimestampExpiry time.Duration
	BinBits                                                                int
	RootThreshold                                                          int
}

// BinBitsFor returns the succinct-bin bit length suited to n targets.
func BinBitsFor(n int) int { return 8 }

// Target is one file to publish as a TUF target.
type Target struct {
	Path   string
	Length int64
	SHA256 string
}

// Repo is the TUF metadata of one repository.
type Repo struct{}

// Result says what Update changed.
type Result struct {
	Changed  []string
	Roles    []string
	Versions map[string]int64
}

// RoleInfo describes a role for the trust page.
type RoleInfo struct {
	Name      string
	Version   int64
	Expires   time.Time
	KeyIDs    []string
	Threshold int
}

// Info summarises the roles.
type Info struct {
	Roles   []RoleInfo
	Bins    int
	BinBits int
}

func Init(kr *Keyring, cfg Config, now time.Time) (*Repo, error) { return nil, errStub }
func Load(ctx context.Context, dir string) (*Repo, error)        { return nil, errStub }
func (r *Repo) Update(ctx context.Context, kr *Keyring, targets []Target, cfg Config, now time.Time) (*Result, error) {
	return nil, errStub
}
func (r *Repo) Timestamp(kr *Keyring, cfg Config, now time.Time) error           { return errStub }
func (r *Repo) RotateKey(kr *Keyring, role string, nk *Key, now time.Time) error { return errStub }
func (r *Repo) Save(ctx context.Context, dir string) error                       { return errStub }
func (r *Repo) Files() map[string][]byte                                         { return nil }
func (r *Repo) Info() Info                                                       { return Info{} }

// ConsistentTargetName returns "dir/<sha>.<base>" for a target path.
func ConsistentTargetName(path, sha256hex string) string { return "" }
