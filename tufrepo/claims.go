package tufrepo

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ebpfrepo/ebpfrepo/internal/pkgpattern"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// The role tree (PEP 480's "maximum security model"; every role has
// exactly one delegator):
//
//	root ─┬─ timestamp, snapshot               (online: CI)
//	      └─ targets                           (offline: signing events only)
//	            ├─ pub-<publisher> …           terminating; paths: the granted packages;
//	            │                              signed by the author's own keys, never by CI
//	            └─ unclaimed                   (online: the bins key) paths */*/*/*, index/*
//	                  └─ bins-…                succinct hashed bins (the bins key)
//
// A client looking up a claimed package's artifact finds its publisher's
// role first and stops there: a copy CI put in a bin is never consulted.

// Role names of the delegation tree below targets.
const (
	// RoleUnclaimed is the online role, signed by the bins key, that
	// delegates every path no publisher claims to the hashed bins.
	RoleUnclaimed = "unclaimed"
	// PublisherPrefix starts the name of every publisher role:
	// "pub-acme" for publisher "acme".
	PublisherPrefix = "pub-"
)

// unclaimedPaths are the paths of the unclaimed role: every artifact
// (<name>/<version>/<platform>/<artifact>) and the index files.
var unclaimedPaths = []string{"*/*/*/*", "index/*"}

// Grant is a publisher's claim on packages: the keys (and how many of
// them must sign) that alone may vouch for the packages' artifacts.
type Grant struct {
	Publisher string          // name; its role is PublisherPrefix+Publisher
	Keys      []*metadata.Key // public keys (ed25519 or ECDSA P-256)
	Threshold int
	Packages  []string // package names, or "prefix*"
}

// Role is the TUF role name of the grant.
func (g Grant) Role() string { return PublisherPrefix + g.Publisher }

// KeyIDs returns the IDs of the grant's keys, sorted.
func (g Grant) KeyIDs() []string {
	var ids []string
	for _, k := range g.Keys {
		if id, err := k.ID(); err == nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// Claims reports whether the grant covers package name.
func (g Grant) Claims(name string) bool {
	for _, p := range g.Packages {
		if pkgpattern.Claims(p, name) {
			return true
		}
	}
	return false
}

// paths are the delegated path patterns of the grant: go-tuf matches
// segment by segment, so "ratelimiting/*/*/*" (not "ratelimiting/*")
// covers ratelimiting/1.0.0/jammy/x.tar.gz.
func (g Grant) paths() []string {
	out := make([]string, 0, len(g.Packages))
	for _, p := range g.Packages {
		out = append(out, p+"/*/*/*")
	}
	return out
}

// check validates a grant on its own.
func (g Grant) check() error {
	if !pkgpattern.ValidPublisher(g.Publisher) {
		return fmt.Errorf("publisher %q: not a valid name ([a-z0-9][a-z0-9_-]{0,62})", g.Publisher)
	}
	if len(g.Keys) == 0 {
		return fmt.Errorf("publisher %s: no key", g.Publisher)
	}
	if g.Threshold < 1 || g.Threshold > len(g.Keys) {
		return fmt.Errorf("publisher %s: threshold %d with %d key(s)", g.Publisher, g.Threshold, len(g.Keys))
	}
	if len(g.Packages) == 0 {
		return fmt.Errorf("publisher %s: no package granted", g.Publisher)
	}
	for _, p := range g.Packages {
		if !pkgpattern.Valid(p) {
			return fmt.Errorf("publisher %s: package pattern %q: want a package name or a prefix followed by \"*\"", g.Publisher, p)
		}
	}
	for _, k := range g.Keys {
		if _, err := k.ID(); err != nil {
			return fmt.Errorf("publisher %s: key: %w", g.Publisher, err)
		}
		switch k.Type {
		case metadata.KeyTypeEd25519, metadata.KeyTypeECDSA_SHA2_P256:
		default:
			return fmt.Errorf("publisher %s: key type %q: want ed25519 or ecdsa-sha2-nistp256", g.Publisher, k.Type)
		}
	}
	return nil
}

// Grants lists the publishers targets delegates to, in delegation order.
func (r *Repo) Grants() []Grant {
	if !r.ready() {
		return nil
	}
	d := r.targets.md.Signed.Delegations
	var out []Grant
	for _, dr := range d.Roles {
		name, ok := strings.CutPrefix(dr.Name, PublisherPrefix)
		if !ok {
			continue
		}
		g := Grant{Publisher: name, Threshold: dr.Threshold}
		for _, id := range dr.KeyIDs {
			if k := d.Keys[id]; k != nil {
				g.Keys = append(g.Keys, k)
			}
		}
		for _, p := range dr.Paths {
			g.Packages = append(g.Packages, strings.TrimSuffix(p, "/*/*/*"))
		}
		out = append(out, g)
	}
	return out
}

// ClaimOf returns the grant that claims package name, if any.
func (r *Repo) ClaimOf(name string) (Grant, bool) {
	for _, g := range r.Grants() {
		if g.Claims(name) {
			return g, true
		}
	}
	return Grant{}, false
}

// packageOf is the package name of an artifact target path, "" for the
// index files.
func packageOf(targetPath string) string {
	name, rest, ok := strings.Cut(targetPath, "/")
	if !ok || name == "index" || strings.Count(rest, "/") != 2 {
		return ""
	}
	return name
}

// topDelegations builds the delegations of targets: every grant (in
// order, terminating), then unclaimed, signed by binKeys.
func topDelegations(grants []Grant, binKeys map[string]*metadata.Key, binKeyIDs []string) *metadata.Delegations {
	d := &metadata.Delegations{Keys: map[string]*metadata.Key{}, Roles: []metadata.DelegatedRole{}}
	for _, g := range grants {
		for _, k := range g.Keys {
			id, _ := k.ID()
			d.Keys[id] = k
		}
		d.Roles = append(d.Roles, metadata.DelegatedRole{Name: g.Role(), KeyIDs: g.KeyIDs(), Threshold: g.Threshold,
			Terminating: true, Paths: g.paths()})
	}
	for id, k := range binKeys {
		d.Keys[id] = k
	}
	d.Roles = append(d.Roles, metadata.DelegatedRole{Name: RoleUnclaimed, KeyIDs: slices.Clone(binKeyIDs), Threshold: 1,
		Paths: slices.Clone(unclaimedPaths)})
	return d
}

// unclaimedRole returns targets' delegation to unclaimed.
func (r *Repo) unclaimedRole() *metadata.DelegatedRole {
	for i, dr := range r.targets.md.Signed.Delegations.Roles {
		if dr.Name == RoleUnclaimed {
			return &r.targets.md.Signed.Delegations.Roles[i]
		}
	}
	return nil
}

// withGrants returns targets' delegations with grants instead of the
// current ones (unclaimed unchanged).
func (r *Repo) withGrants(grants []Grant) *metadata.Delegations {
	cur := r.targets.md.Signed.Delegations
	ur := r.unclaimedRole()
	if ur == nil {
		return r.topNow(cloneDelegations(r.binDelegator().Signed.Delegations))
	}
	keys := map[string]*metadata.Key{}
	for _, id := range ur.KeyIDs {
		keys[id] = cur.Keys[id]
	}
	return topDelegations(grants, keys, ur.KeyIDs)
}

// GrantError is a grant the repository refuses.
type GrantError struct {
	Publisher string
	Err       error
}

func (e *GrantError) Error() string {
	return fmt.Sprintf("tufrepo: publisher %s: %v", e.Publisher, e.Err)
}
func (e *GrantError) Unwrap() error { return e.Err }

// ErrOverlap is wrapped by a GrantError whose packages another publisher
// already holds.
var ErrOverlap = errors.New("overlaps another publisher's grant")

// Grant delegates g's packages to its publisher (replacing the
// publisher's earlier grant, if any): a signing event of targets, whose
// key must be at hand. A grant overlapping another publisher's is refused.
func (r *Repo) Grant(g Grant) error {
	if !r.ready() {
		return errNotReady
	}
	if err := g.check(); err != nil {
		return &GrantError{Publisher: g.Publisher, Err: err}
	}
	var grants []Grant
	for _, o := range r.Grants() {
		if o.Publisher == g.Publisher {
			continue
		}
		for _, a := range g.Packages {
			for _, b := range o.Packages {
				if pkgpattern.Overlap(a, b) {
					return &GrantError{Publisher: g.Publisher, Err: fmt.Errorf("%w: %q and %s's %q", ErrOverlap, a, o.Publisher, b)}
				}
			}
		}
		grants = append(grants, o)
	}
	grants = append(grants, g)
	slices.SortFunc(grants, func(a, b Grant) int { return strings.Compare(a.Publisher, b.Publisher) })
	return r.signingEvent(r.withGrants(grants), nil)
}

// Revoke removes a publisher's grant: its packages become unclaimed (the
// repository signs them again at the next Update). A signing event of
// targets.
func (r *Repo) Revoke(publisher string) error {
	if !r.ready() {
		return errNotReady
	}
	var grants []Grant
	found := false
	for _, o := range r.Grants() {
		if o.Publisher == publisher {
			found = true
			continue
		}
		grants = append(grants, o)
	}
	if !found {
		return &GrantError{Publisher: publisher, Err: errors.New("no such publisher")}
	}
	delete(r.pubs, PublisherPrefix+publisher)
	return r.signingEvent(r.withGrants(grants), nil)
}

// signingEvent re-signs targets with top and the files it lists itself
// (nil: the current ones), and snapshot and timestamp.
func (r *Repo) signingEvent(top *metadata.Delegations, files map[string]*metadata.TargetFiles) error {
	cfg, err := r.opts.Config.withDefaults()
	if err != nil {
		return err
	}
	if r.Legacy() {
		return errors.New("tufrepo: the metadata predates publisher delegations: build once with the targets key to upgrade it first")
	}
	_, err = r.apply(r.opts.keys(), cfg, r.opts.now(), plan{top: top, deleg: cloneDelegations(r.unclaimed.md.Signed.Delegations), topFiles: files, force: map[string]bool{RoleTargets: true}})
	return err
}

// PublisherRoleError is a publisher's role file the repository refuses,
// with the check that failed.
type PublisherRoleError struct {
	Publisher string
	File      string // the file offered, when known
	Target    string // the target at fault, when one is
	Err       error
}

func (e *PublisherRoleError) Error() string {
	s := "tufrepo: publisher " + e.Publisher
	if e.File != "" {
		s += ": " + e.File
	}
	if e.Target != "" {
		s += ": target " + e.Target
	}
	return s + ": " + e.Err.Error()
}

func (e *PublisherRoleError) Unwrap() error { return e.Err }

// Errors a PublisherRoleError wraps, one per check.
var (
	ErrNotGranted      = errors.New("no such publisher is granted: the maintainers grant it with ebpfrepo publisher add")
	ErrBadSignature    = errors.New("not signed by a threshold of the publisher's granted keys")
	ErrRollback        = errors.New("version is not higher than the published one")
	ErrRoleExpired     = errors.New("expired")
	ErrOutsideGrant    = errors.New("outside the packages granted to the publisher")
	ErrHistoryChanged  = errors.New("an earlier target was dropped or changed: a publisher yanks, it does not rewrite history")
	ErrTargetMismatch  = errors.New("the signed length or sha256 differs from the artifact")
	ErrTargetMissing   = errors.New("the publisher's role does not list it: sign it with ebpfrepo sign")
	ErrRoleNotTargets  = errors.New("not a TUF targets metadata file")
	ErrRoleDelegates   = errors.New("a publisher's role may not delegate further")
	ErrRoleHashesExtra = errors.New("list exactly one hash, sha256")
)

// PublisherRole is a verified publisher role file.
type PublisherRole struct {
	Publisher string
	Version   int64
	Expires   time.Time
	KeyIDs    []string // the keys whose signatures verified
	Targets   map[string]Target
	raw       []byte
	md        *metadata.Metadata[metadata.TargetsType]
}

// VerifyPublisherRole checks raw, a pub-<publisher>.json offered for the
// repository: it parses as targets metadata named for a granted
// publisher; a threshold of the granted keys signed it (go-tuf's
// VerifyDelegate against targets); its version is higher than the
// published one; it is unexpired at the Repo's clock; every target lies
// inside the grant and lists a sha256 only; and no target of the
// published version was dropped or changed.
func (r *Repo) VerifyPublisherRole(publisher string, raw []byte) (*PublisherRole, error) {
	fail := func(target string, err error) (*PublisherRole, error) {
		return nil, &PublisherRoleError{Publisher: publisher, Target: target, Err: err}
	}
	if !r.ready() {
		return nil, errNotReady
	}
	g, ok := r.grant(publisher)
	if !ok {
		return fail("", ErrNotGranted)
	}
	md, err := new(metadata.Metadata[metadata.TargetsType]).FromBytes(raw)
	if err != nil {
		return fail("", fmt.Errorf("%w: %v", ErrRoleNotTargets, err))
	}
	if err := r.targets.md.VerifyDelegate(g.Role(), md); err != nil {
		return fail("", fmt.Errorf("%w: %v", ErrBadSignature, err))
	}
	if cur, ok := r.pubs[g.Role()]; ok && md.Signed.Version <= cur.md.Signed.Version {
		return fail("", fmt.Errorf("%w: %d, published %d", ErrRollback, md.Signed.Version, cur.md.Signed.Version))
	}
	if now := r.opts.now(); !md.Signed.Expires.After(now) {
		return fail("", fmt.Errorf("%w on %s", ErrRoleExpired, md.Signed.Expires.UTC().Format(time.RFC3339)))
	}
	if md.Signed.Delegations != nil {
		return fail("", ErrRoleDelegates)
	}
	pr := &PublisherRole{Publisher: publisher, Version: md.Signed.Version, Expires: md.Signed.Expires, Targets: map[string]Target{}, raw: raw, md: md}
	for p, tf := range md.Signed.Targets {
		if !g.Claims(packageOf(p)) {
			return fail(p, ErrOutsideGrant)
		}
		h, ok := tf.Hashes["sha256"]
		if !ok || len(tf.Hashes) != 1 || len(h) != 32 {
			return fail(p, ErrRoleHashesExtra)
		}
		pr.Targets[p] = Target{Path: p, Length: tf.Length, SHA256: hex.EncodeToString(h)}
	}
	if cur, ok := r.pubs[g.Role()]; ok {
		for p, old := range cur.md.Signed.Targets {
			n, ok := pr.Targets[p]
			if !ok || n.Length != old.Length || n.SHA256 != hex.EncodeToString(old.Hashes["sha256"]) {
				return fail(p, ErrHistoryChanged)
			}
		}
	}
	pr.KeyIDs = verifiedKeyIDs(r.targets.md.Signed.Delegations, g, md)
	return pr, nil
}

// verifiedKeyIDs lists the granted keys whose signature on md verifies.
func verifiedKeyIDs(d *metadata.Delegations, g Grant, md *metadata.Metadata[metadata.TargetsType]) []string {
	var out []string
	for _, id := range g.KeyIDs() {
		one := &metadata.Delegations{Keys: map[string]*metadata.Key{id: d.Keys[id]},
			Roles: []metadata.DelegatedRole{{Name: g.Role(), KeyIDs: []string{id}, Threshold: 1, Paths: g.paths()}}}
		parent := metadata.Targets(time.Now().Add(time.Hour))
		parent.Signed.Delegations = one
		if parent.VerifyDelegate(g.Role(), md) == nil {
			out = append(out, id)
		}
	}
	return out
}

func (r *Repo) grant(publisher string) (Grant, bool) {
	for _, g := range r.Grants() {
		if g.Publisher == publisher {
			return g, true
		}
	}
	return Grant{}, false
}

// AcceptPublisherRole verifies raw (see VerifyPublisherRole) and makes it
// the publisher's current role: the next Update lists it in snapshot.
// The repository never re-signs it.
func (r *Repo) AcceptPublisherRole(publisher string, raw []byte) (*PublisherRole, error) {
	pr, err := r.VerifyPublisherRole(publisher, raw)
	if err != nil {
		return nil, err
	}
	r.pubs[PublisherPrefix+publisher] = signedMeta[metadata.TargetsType]{pr.md, raw}
	return pr, nil
}

// PublisherRoleOf returns the current, verified role of a publisher
// (false when it has signed nothing yet).
func (r *Repo) PublisherRoleOf(publisher string) (*PublisherRole, bool) {
	s, ok := r.pubs[PublisherPrefix+publisher]
	if !ok {
		return nil, false
	}
	pr := &PublisherRole{Publisher: publisher, Version: s.md.Signed.Version, Expires: s.md.Signed.Expires, Targets: map[string]Target{}, raw: s.raw, md: s.md}
	for p, tf := range s.md.Signed.Targets {
		pr.Targets[p] = Target{Path: p, Length: tf.Length, SHA256: hex.EncodeToString(tf.Hashes["sha256"])}
	}
	if g, ok := r.grant(publisher); ok {
		pr.KeyIDs = verifiedKeyIDs(r.targets.md.Signed.Delegations, g, s.md)
	}
	return pr, true
}

// Raw is the role file exactly as the publisher signed it.
func (p *PublisherRole) Raw() []byte { return p.raw }

// PublicKey converts a public key (ed25519, ECDSA P-256) to a TUF key.
func PublicKey(pub crypto.PublicKey) (*metadata.Key, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return nil, errors.New("ECDSA key: want curve P-256")
		}
	default:
		return nil, fmt.Errorf("public key of type %T: want ed25519 or ECDSA P-256", pub)
	}
	return metadata.KeyFromPublicKey(pub)
}
