package tufrepo

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// signRoot signs root, a new root version, with the root keys of kr that
// the previous root (nil for version 1) and root itself trust, so that
// both thresholds are met, and checks the result as a client would.
func signRoot(root, prev *metadata.Metadata[metadata.RootType], kr *Keyring) ([]byte, error) {
	var keys []*Key
	seen := map[string]bool{}
	for _, m := range []*metadata.Metadata[metadata.RootType]{prev, root} {
		if m == nil {
			continue
		}
		rr := m.Signed.Roles[RoleRoot]
		ks, err := kr.signers(RoleRoot, fmt.Sprintf("root (version %d)", m.Signed.Version), rr.KeyIDs, rr.Threshold)
		if err != nil {
			return nil, err
		}
		for _, k := range ks {
			if id := k.ID(); !seen[id] {
				seen[id] = true
				keys = append(keys, k)
			}
		}
	}
	slices.SortFunc(keys, func(a, b *Key) int { return strings.Compare(a.ID(), b.ID()) })
	raw, err := signBytes(root, keys)
	if err != nil {
		return nil, fmt.Errorf("sign root version %d: %w", root.Signed.Version, err)
	}
	if prev != nil {
		if err := prev.VerifyDelegate(RoleRoot, root); err != nil {
			return nil, fmt.Errorf("root version %d does not verify with root version %d: %w", root.Signed.Version, prev.Signed.Version, err)
		}
	}
	if err := root.VerifyDelegate(RoleRoot, root); err != nil {
		return nil, fmt.Errorf("root version %d does not verify with itself: %w", root.Signed.Version, err)
	}
	return raw, nil
}

// nextRoot returns a copy of the newest root with the next version and
// a new expiry date.
func (r *Repo) nextRoot(cfg Config, now time.Time) (*metadata.Metadata[metadata.RootType], error) {
	md, err := new(metadata.Metadata[metadata.RootType]).FromBytes(r.roots[len(r.roots)-1].raw)
	if err != nil {
		return nil, fmt.Errorf("tufrepo: copy root: %w", err)
	}
	md.Signed.Version++
	md.Signed.Expires = cfg.expiry(RoleRoot, now)
	return md, nil
}

// RenewRoot signs the next root version with a new expiry date and no
// other change. Keys must hold a threshold of root keys.
func (r *Repo) RenewRoot() error {
	kr, cfg, now := r.opts.keys(), r.opts.Config, r.opts.now()
	if !r.ready() {
		return errNotReady
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	md, err := r.nextRoot(cfg, now)
	if err != nil {
		return err
	}
	raw, err := signRoot(md, r.root(), kr)
	if err != nil {
		return fmt.Errorf("tufrepo: renew root: %w", err)
	}
	r.roots = append(r.roots, signedMeta[metadata.RootType]{md, raw})
	return nil
}

// KeyIDs returns the IDs of the keys role is trusted with now.
func (r *Repo) KeyIDs(role string) []string {
	if !r.ready() {
		return nil
	}
	if role == RoleBins {
		if sr := r.succinct(); sr != nil {
			return slices.Clone(sr.KeyIDs)
		}
		return nil
	}
	if rr := r.root().Signed.Roles[role]; rr != nil {
		return slices.Clone(rr.KeyIDs)
	}
	return nil
}

// RotateKey replaces the one key of role with nk (a role with several
// keys needs ReplaceKeys, which says which to replace):
//   - root: the next N.root.json lists nk instead of the old key and is
//     signed by the old root keys (old threshold) and the new ones (new
//     threshold), so clients holding 1.root.json follow the chain. Keys
//     holds the old root key(s).
//   - targets, snapshot, timestamp: the next root lists nk (Keys holds the
//     root keys), then the role is re-signed with nk and so is every role
//     that refers to it (targets → snapshot → timestamp); Keys holds the
//     keys of those roles.
//   - bins: targets delegates the bins to nk instead (Keys holds the targets
//     key) and every bin is re-signed with nk, then snapshot and timestamp.
//
// Nothing changes if anything fails. Keys, periods and the clock come
// from the Options given to Init or Load.
// Store nk (Key.WriteFile) only after Save succeeded.
func (r *Repo) RotateKey(role string, nk *Key) error {
	if !r.ready() {
		return errNotReady
	}
	old := r.KeyIDs(role)
	if !validRole(role) {
		return fmt.Errorf("tufrepo: rotate key: unknown role %q (want one of %s)", role, strings.Join(KeyRoles, ", "))
	}
	if len(old) != 1 {
		return fmt.Errorf("tufrepo: rotate key: role %s has %d keys; say which to replace (ReplaceKeys)", role, len(old))
	}
	return r.ReplaceKeys(role, old, []*Key{nk}, 0)
}

// ReplaceKeys removes the keys with IDs remove from role, adds add, and
// sets the role's threshold (0 keeps it), signing as RotateKey describes.
// For root, Keys holds enough of the current root keys for the current
// threshold and enough of the resulting ones (with add) for the new one.
func (r *Repo) ReplaceKeys(role string, remove []string, add []*Key, threshold int) error {
	kr, now := r.opts.keys(), r.opts.now()
	if !r.ready() {
		return errNotReady
	}
	cfg, err := r.opts.Config.withDefaults()
	if err != nil {
		return err
	}
	if !validRole(role) {
		return fmt.Errorf("tufrepo: replace keys: unknown role %q (want one of %s)", role, strings.Join(KeyRoles, ", "))
	}
	cur := r.KeyIDs(role)
	var next []string
	for _, id := range remove {
		if !slices.Contains(cur, id) {
			return fmt.Errorf("tufrepo: replace keys: role %s has no key %s", role, shortID(id))
		}
	}
	for _, id := range cur {
		if !slices.Contains(remove, id) {
			next = append(next, id)
		}
	}
	for _, k := range add {
		if err := k.check(); err != nil {
			return fmt.Errorf("tufrepo: replace keys: role %s: %w", role, err)
		}
		if id := k.ID(); !slices.Contains(next, id) {
			next = append(next, id)
		}
	}
	if len(next) == 0 {
		return fmt.Errorf("tufrepo: replace keys: role %s would have no key left", role)
	}
	if threshold < 0 || threshold > len(next) {
		return fmt.Errorf("tufrepo: replace keys: role %s: threshold %d with %d keys", role, threshold, len(next))
	}
	kr = kr.With(role, append(slices.Clone(kr.Keys(role)), add...)...)

	if role == RoleBins {
		return r.replaceBinKeys(kr, cfg, now, remove, next, add, threshold)
	}
	return r.replaceRootListedKeys(kr, cfg, now, role, remove, add, threshold)
}

// replaceBinKeys delegates unclaimed and the bins to the next keys (the
// first in targets: a signing event that needs the targets key) and
// re-signs unclaimed and every bin with them.
func (r *Repo) replaceBinKeys(kr *Keyring, cfg Config, now time.Time, remove, next []string, add []*Key, threshold int) error {
	deleg := cloneDelegations(r.binDelegator().Signed.Delegations)
	sr := deleg.SuccinctRoles
	for _, id := range remove {
		delete(deleg.Keys, id)
	}
	sr.KeyIDs = slices.Clone(next)
	for _, k := range add {
		tk, err := k.TUFKey()
		if err != nil {
			return err
		}
		deleg.Keys[k.ID()] = tk
	}
	slices.Sort(sr.KeyIDs)
	if threshold != 0 {
		sr.Threshold = threshold
	}
	if sr.Threshold > len(sr.KeyIDs) {
		return fmt.Errorf("tufrepo: replace keys: role bins: threshold %d with %d keys", sr.Threshold, len(sr.KeyIDs))
	}
	top := r.topNow(deleg)
	if ur := unclaimedRoleOf(&metadata.Metadata[metadata.TargetsType]{Signed: metadata.TargetsType{Delegations: top}}); ur != nil {
		for _, id := range ur.KeyIDs {
			if !slices.Contains(sr.KeyIDs, id) {
				delete(top.Keys, id)
			}
		}
		ur.KeyIDs = slices.Clone(sr.KeyIDs)
		ur.Threshold = sr.Threshold
		for _, id := range sr.KeyIDs {
			top.Keys[id] = deleg.Keys[id]
		}
	}
	_, err := r.apply(kr, cfg, now, plan{top: top, deleg: deleg, force: map[string]bool{RoleBins: true}})
	return err
}

// replaceRootListedKeys signs the next root with role's keys replaced,
// then (but for root itself) re-signs the role and those that refer to it.
func (r *Repo) replaceRootListedKeys(kr *Keyring, cfg Config, now time.Time, role string, remove []string, add []*Key, threshold int) error {
	md, err := r.nextRoot(cfg, now)
	if err != nil {
		return err
	}
	rs := &md.Signed
	for _, id := range remove {
		if err := rs.RevokeKey(id, role); err != nil {
			return fmt.Errorf("tufrepo: replace keys: %w", err)
		}
	}
	for _, k := range add {
		tk, err := k.TUFKey()
		if err != nil {
			return err
		}
		if err := rs.AddKey(tk, role); err != nil {
			return fmt.Errorf("tufrepo: replace keys: %w", err)
		}
	}
	slices.Sort(rs.Roles[role].KeyIDs)
	if threshold != 0 {
		rs.Roles[role].Threshold = threshold
	}
	if th := rs.Roles[role].Threshold; th > len(rs.Roles[role].KeyIDs) {
		return fmt.Errorf("tufrepo: replace keys: role %s: threshold %d with %d keys; give a lower threshold", role, th, len(rs.Roles[role].KeyIDs))
	}
	raw, err := signRoot(md, r.root(), kr)
	if err != nil {
		return fmt.Errorf("tufrepo: replace keys: %w", err)
	}
	r.roots = append(r.roots, signedMeta[metadata.RootType]{md, raw})
	if role == RoleRoot {
		return nil
	}
	if _, err := r.apply(kr, cfg, now, r.unchangedPlan(map[string]bool{role: true})); err != nil {
		r.roots = r.roots[:len(r.roots)-1]
		return fmt.Errorf("tufrepo: replace keys: role %s is in root version %d but cannot be re-signed: %w", role, md.Signed.Version, err)
	}
	return nil
}
