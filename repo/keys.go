package repo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/tufrepo"
)

func (r *Repo) abs(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(r.Dir, filepath.FromSlash(p))
}

func (r *Repo) keysDir() string {
	d := r.Config.Keys.Dir
	if d == "" {
		d = layout.KeysDir
	}
	return r.abs(d)
}

// keyring loads the private keys at hand: the key files of the keys
// directory, each role replaced by $EBPFREPO_<ROLE>_KEY when set. Keys
// kept offline are simply absent; signing reports a missing key.
func (r *Repo) keyring() (*tufrepo.Keyring, error) {
	return tufrepo.LoadKeyring(r.keysDir())
}

// RotateOptions configures RotateKey. The zero value means defaults.
type RotateOptions struct {
	Now time.Time // the signing time; zero: the current time
}

// RotateKey replaces the key of role (root, targets, bins, snapshot or
// timestamp) with a new ed25519 key. The root keys must be at hand:
// rotating changes root, and the next N.root.json is signed by the old
// and the new keys so that clients follow the chain. The new key is
// written to keys/<role>.pem; the old file is kept beside it as
// <role>.pem.old-<keyid8> (which no command loads). The published output
// changes at the next build.
func (r *Repo) RotateKey(ctx context.Context, role string, opts RotateOptions) error {
	if !slices.Contains(Roles, role) {
		return fmt.Errorf("keys rotate: unknown role %q (one of %s)", role, strings.Join(Roles, ", "))
	}
	s, err := r.open("keys rotate "+role, opts.Now)
	if err != nil {
		return err
	}
	defer s.close()
	// The new root and the roles re-signed get the expiry periods of
	// ebpfrepo.toml (metadata binds them), not tufrepo's defaults.
	tr, _, err := s.metadata(ctx)
	if err != nil {
		return err
	}
	// Rotating any key writes a new root.json, which the current root
	// keys must sign: say so before a new key is even made.
	if err := tr.CanSign(tufrepo.RoleRoot); err != nil {
		return fmt.Errorf("keys rotate %s: rotating a key writes a new root.json, signed by the current root keys: %w", role, err)
	}
	nk, err := tufrepo.GenerateKey()
	if err != nil {
		return fmt.Errorf("keys rotate %s: %w", role, err)
	}
	target := filepath.Join(r.keysDir(), role+".pem")
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		return err
	}
	// Write the new key first, under a temporary name: if signing fails,
	// nothing changed.
	tmp := target + ".new"
	os.Remove(tmp)
	if err := nk.WriteFile(tmp); err != nil {
		return fmt.Errorf("keys rotate %s: %w", role, err)
	}
	defer os.Remove(tmp)
	if err := tr.RotateKey(role, nk); err != nil {
		return fmt.Errorf("keys rotate %s: %w", role, err)
	}
	if err := s.saveMetadata(ctx, tr); err != nil {
		return err
	}
	if old, err := tufrepo.LoadKeyFile(target); err == nil {
		id := old.ID()
		if len(id) > 8 {
			id = id[:8]
		}
		if err := os.Rename(target, target+".old-"+id); err != nil {
			return err
		}
	}
	return os.Rename(tmp, target)
}
