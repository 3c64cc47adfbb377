package tufrepo

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// MetadataDir is the directory of the published tree that holds the
// TUF metadata; Files names files under it.
const MetadataDir = "metadata"

// Target is one file to publish as a TUF target: its path relative to
// the targets URL, its length and the hex sha256 of its bytes.
type Target struct {
	Path   string
	Length int64
	SHA256 string
}

// signedMeta is one signed metadata file: the parsed form and exactly
// the bytes published, serialised once when signed.
type signedMeta[T metadata.Roles] struct {
	md  *metadata.Metadata[T]
	raw []byte
}

// Repo is the TUF metadata of one repository: every root version, the
// current targets, bins, snapshot and timestamp. Use Init or Load to
// get one. A Repo is not safe for concurrent use.
type Repo struct {
	roots     []signedMeta[metadata.RootType] // roots[i] is version i+1
	targets   signedMeta[metadata.TargetsType]
	unclaimed signedMeta[metadata.TargetsType]            // md nil: metadata from before publisher delegations (targets → bins)
	pubs      map[string]signedMeta[metadata.TargetsType] // publisher roles, by role name, as their authors signed them
	bins      map[string]binMeta                          // current bins only: bytes and summary
	snapshot  signedMeta[metadata.SnapshotType]
	timestamp signedMeta[metadata.TimestampType]
	opts      Options // what it signs with
	partial   bool    // loaded by LoadClaims: no bins, read only
}

// Options is what a Repo signs with, given once to Init or Load instead of
// to every call: the keys at hand, the configuration (expiry periods, bin
// count, root threshold) and the clock. The zero value means no keys
// (signing names the missing key), the default configuration and the
// current time.
type Options struct {
	Keys   *Keyring
	Config Config
	Now    time.Time // the time signing happens at (expiry dates follow from it); zero: the current time
	// BinCache, if set, is the file where Load remembers the bins it
	// verified (sha256 of their bytes and their summary), so that a later
	// Load does not parse and verify unchanged bins again ("": none).
	BinCache string
}

func (o Options) keys() *Keyring {
	if o.Keys == nil {
		return NewKeyring()
	}
	return o.Keys
}

func (o Options) now() time.Time {
	if o.Now.IsZero() {
		return time.Now().UTC().Truncate(time.Second)
	}
	return o.Now
}

// Result says what Update (or another signing call) did.
type Result struct {
	Changed  []string         // roles re-signed: "targets", bins by name ("bins-3f"), "snapshot", "timestamp"
	Roles    []string         // every current role: root, targets, each bin, snapshot, timestamp
	Versions map[string]int64 // current version of every role in Roles
	Warnings []string         // things the maintainer should act on (root expiring soon)
}

// Info summarises the roles. For RoleBins, Roles holds one entry whose
// Version is the highest bin version and Expires the earliest bin expiry.
type Info struct {
	Roles   []index.RoleInfo
	Bins    int
	BinBits int
}

func (r *Repo) root() *metadata.Metadata[metadata.RootType] { return r.roots[len(r.roots)-1].md }

// errNotReady is returned by methods of a Repo that Init or Load did not
// make.
var errNotReady = errors.New("tufrepo: empty Repo: create it with Init or Load")

func (r *Repo) ready() bool {
	return r != nil && len(r.roots) > 0 && r.targets.md != nil && r.snapshot.md != nil && r.timestamp.md != nil && r.succinct() != nil
}

// succinct is the hashed-bin delegation: of unclaimed, or of targets in
// metadata from before publisher delegations.
func (r *Repo) succinct() *metadata.SuccinctRoles {
	if d := r.binDelegator().Signed.Delegations; d != nil {
		return d.SuccinctRoles
	}
	return nil
}

// binDelegator is the role that delegates to the bins.
func (r *Repo) binDelegator() *metadata.Metadata[metadata.TargetsType] {
	if r.unclaimed.md != nil {
		return r.unclaimed.md
	}
	return r.targets.md
}

// Legacy reports whether the metadata predates publisher delegations
// (targets delegates to the bins directly): the next Update re-signs
// targets in the new shape, which needs the targets key once.
func (r *Repo) Legacy() bool { return r.ready() && r.unclaimed.md == nil }

// Init creates the metadata of a new repository: 1.root.json with
// consistent snapshots, the root keys of Keys (threshold Config.RootThreshold,
// or all of them) and the targets, snapshot and timestamp keys of Keys;
// then version 1 of targets (delegating to empty bins signed by the Keys'
// bins key), of every bin, of snapshot and of timestamp, so that the new
// repository is valid and clients can refresh it. Keys must hold every
// role's key.
func Init(opts Options) (*Repo, error) {
	kr, now := opts.keys(), opts.now()
	cfg, err := opts.Config.withDefaults()
	if err != nil {
		return nil, err
	}
	for _, role := range KeyRoles {
		if _, err := kr.signers(role, role, ids(kr.Keys(role)), 1); err != nil {
			return nil, fmt.Errorf("tufrepo: init: %w", err)
		}
	}
	root := metadata.Root(cfg.expiry(RoleRoot, now))
	root.Signed.ConsistentSnapshot = true
	for _, role := range []string{RoleRoot, RoleTargets, RoleSnapshot, RoleTimestamp} {
		if err := setRoleKeys(&root.Signed, role, kr.Keys(role)); err != nil {
			return nil, fmt.Errorf("tufrepo: init: %w", err)
		}
	}
	nroot := len(root.Signed.Roles[RoleRoot].KeyIDs)
	th := cfg.RootThreshold
	if th == 0 {
		th = nroot
	}
	if th > nroot {
		return nil, fmt.Errorf("tufrepo: init: root threshold %d is more than the %d root keys at hand", th, nroot)
	}
	root.Signed.Roles[RoleRoot].Threshold = th
	raw, err := signRoot(root, nil, kr)
	if err != nil {
		return nil, fmt.Errorf("tufrepo: init: %w", err)
	}
	r := &Repo{roots: []signedMeta[metadata.RootType]{{root, raw}}, opts: opts, pubs: map[string]signedMeta[metadata.TargetsType]{}}
	bits := cfg.BinBits
	if bits == 0 {
		bits = BinBitsFor(0)
	}
	deleg, err := binsDelegation(kr.Keys(RoleBins), bits)
	if err != nil {
		return nil, fmt.Errorf("tufrepo: init: %w", err)
	}
	p := plan{top: topDelegations(nil, deleg.Keys, deleg.SuccinctRoles.KeyIDs), deleg: deleg, bins: map[string][]binEntry{}}
	if _, err := r.apply(kr, cfg, now, p); err != nil {
		return nil, fmt.Errorf("tufrepo: init: %w", err)
	}
	return r, nil
}

func ids(ks []*Key) []string {
	out := make([]string, 0, len(ks))
	for _, k := range ks {
		out = append(out, k.ID())
	}
	return out
}

// setRoleKeys makes ks the keys of role in root (threshold unchanged),
// keeping root's key list free of keys no role uses.
func setRoleKeys(root *metadata.RootType, role string, ks []*Key) error {
	rr := root.Roles[role]
	for _, id := range slices.Clone(rr.KeyIDs) {
		if err := root.RevokeKey(id, role); err != nil {
			return err
		}
	}
	sorted := slices.Clone(ks)
	slices.SortFunc(sorted, func(a, b *Key) int { return strings.Compare(a.ID(), b.ID()) })
	for _, k := range sorted {
		tk, err := k.TUFKey()
		if err != nil {
			return err
		}
		if err := root.AddKey(tk, role); err != nil {
			return err
		}
	}
	return nil
}

// binsDelegation is the succinct hashed-bin delegation to ks.
func binsDelegation(ks []*Key, bits int) (*metadata.Delegations, error) {
	d := &metadata.Delegations{Keys: map[string]*metadata.Key{}}
	var kids []string
	for _, k := range ks {
		tk, err := k.TUFKey()
		if err != nil {
			return nil, err
		}
		id := k.ID()
		d.Keys[id] = tk
		kids = append(kids, id)
	}
	slices.Sort(kids)
	d.SuccinctRoles = &metadata.SuccinctRoles{KeyIDs: kids, Threshold: 1, BitLength: bits, NamePrefix: RoleBins}
	return d, nil
}

// Files returns the published metadata, keyed by path relative to the
// published root: metadata/1.root.json … metadata/N.root.json,
// metadata/N.targets.json, metadata/N.bins-XX.json for every bin,
// metadata/N.snapshot.json and metadata/timestamp.json. The byte slices
// may be shared with the Repo: do not modify them. It holds every bin's
// bytes at once; EachFile gives them one at a time.
func (r *Repo) Files() (map[string][]byte, error) {
	m := map[string][]byte{}
	err := r.EachFile(func(name string, data []byte) (string, error) {
		m[name] = data
		return "", nil
	})
	return m, err
}

// EachFile calls fn with each file of Files, in name order, one at a
// time, reading back from its file each bin the Repo no longer holds. fn
// returns the path of a file that now holds exactly data, or "": a bin
// just signed is then no longer held either, and is read back from there
// when wanted again (by Save: that file must outlast it).
func (r *Repo) EachFile(fn func(name string, data []byte) (string, error)) error {
	if !r.ready() {
		return nil
	}
	files := r.metaFiles()
	for _, n := range slices.Sorted(maps.Keys(files)) {
		f := files[n]
		data, err := r.metaBytes(f)
		if err != nil {
			return err
		}
		kept, err := fn(MetadataDir+"/"+n, data)
		if err != nil {
			return err
		}
		if b, ok := r.bins[f.bin]; ok && kept != "" && b.raw != nil {
			b.spill(kept)
			r.bins[f.bin] = b
		}
	}
	return nil
}

// Digests returns the sha256 of each file of Files, by the same names,
// without reading any bin back: what changed between two points of a
// run is then found without holding or reading every bin twice.
func (r *Repo) Digests() map[string][sha256.Size]byte {
	if !r.ready() {
		return map[string][sha256.Size]byte{}
	}
	files := r.metaFiles()
	m := make(map[string][sha256.Size]byte, len(files))
	for n, f := range files {
		if b, ok := r.bins[f.bin]; ok {
			m[MetadataDir+"/"+n] = b.sum
		} else {
			m[MetadataDir+"/"+n] = sha256.Sum256(f.raw)
		}
	}
	return m
}

// File returns one file of Files by its name there.
func (r *Repo) File(name string) ([]byte, error) {
	if !r.ready() {
		return nil, fmt.Errorf("tufrepo: no metadata file %s", name)
	}
	f, ok := r.metaFiles()[strings.TrimPrefix(name, MetadataDir+"/")]
	if !ok {
		return nil, fmt.Errorf("tufrepo: no metadata file %s", name)
	}
	return r.metaBytes(f)
}

// metaFile is one file of the metadata directory: its bytes, or the bin
// whose bytes it is.
type metaFile struct {
	raw []byte
	bin string
}

// metaFiles are the files of the metadata directory, by file name.
func (r *Repo) metaFiles() map[string]metaFile {
	m := make(map[string]metaFile, len(r.roots)+len(r.bins)+3)
	for i, s := range r.roots {
		m[fmt.Sprintf("%d.root.json", i+1)] = metaFile{raw: s.raw}
	}
	m[fmt.Sprintf("%d.%s.json", r.targets.md.Signed.Version, RoleTargets)] = metaFile{raw: r.targets.raw}
	if r.unclaimed.md != nil {
		m[fmt.Sprintf("%d.%s.json", r.unclaimed.md.Signed.Version, RoleUnclaimed)] = metaFile{raw: r.unclaimed.raw}
	}
	for n, s := range r.pubs {
		m[fmt.Sprintf("%d.%s.json", s.md.Signed.Version, n)] = metaFile{raw: s.raw}
	}
	for n, b := range r.bins {
		m[fmt.Sprintf("%d.%s.json", b.version, n)] = metaFile{bin: n}
	}
	m[fmt.Sprintf("%d.%s.json", r.snapshot.md.Signed.Version, RoleSnapshot)] = metaFile{raw: r.snapshot.raw}
	m[RoleTimestamp+".json"] = metaFile{raw: r.timestamp.raw}
	return m
}

// metaBytes returns f's bytes.
func (r *Repo) metaBytes(f metaFile) ([]byte, error) {
	if f.bin == "" {
		return f.raw, nil
	}
	return r.bins[f.bin].bytes()
}

// rootJSON returns version's root metadata (1 is what clients pin) or
// nil if there is no such version.
func (r *Repo) rootJSON(version int) []byte {
	if r == nil || version < 1 || version > len(r.roots) {
		return nil
	}
	return r.roots[version-1].raw
}

// rootVersion is the newest root version.
func (r *Repo) rootVersion() int64 {
	if r == nil || len(r.roots) == 0 {
		return 0
	}
	return r.root().Signed.Version
}

// Info describes the current roles.
func (r *Repo) Info() Info {
	if !r.ready() {
		return Info{}
	}
	root := r.root().Signed
	top := func(name string, version int64, exp time.Time) index.RoleInfo {
		ri := index.RoleInfo{Name: name, Version: version, Expires: exp}
		if rr := root.Roles[name]; rr != nil {
			ri.KeyIDs, ri.Threshold = slices.Clone(rr.KeyIDs), rr.Threshold
		}
		return ri
	}
	info := Info{Bins: len(r.bins)}
	info.Roles = append(info.Roles, top(RoleRoot, root.Version, root.Expires),
		top(RoleTargets, r.targets.md.Signed.Version, r.targets.md.Signed.Expires))
	for _, g := range r.Grants() {
		gi := index.RoleInfo{Name: g.Role(), KeyIDs: g.KeyIDs(), Threshold: g.Threshold}
		if s, ok := r.pubs[g.Role()]; ok {
			gi.Version, gi.Expires = s.md.Signed.Version, s.md.Signed.Expires
		}
		info.Roles = append(info.Roles, gi)
	}
	if ur := r.unclaimedRole(); ur != nil && r.unclaimed.md != nil {
		info.Roles = append(info.Roles, index.RoleInfo{Name: RoleUnclaimed, Version: r.unclaimed.md.Signed.Version,
			Expires: r.unclaimed.md.Signed.Expires, KeyIDs: slices.Clone(ur.KeyIDs), Threshold: ur.Threshold})
	}
	if sr := r.succinct(); sr != nil {
		info.BinBits = sr.BitLength
		bi := index.RoleInfo{Name: RoleBins, KeyIDs: slices.Clone(sr.KeyIDs), Threshold: sr.Threshold}
		for _, b := range r.bins {
			bi.Version = max(bi.Version, b.version)
			if bi.Expires.IsZero() || b.expires.Before(bi.Expires) {
				bi.Expires = b.expires
			}
		}
		info.Roles = append(info.Roles, bi)
	}
	info.Roles = append(info.Roles, top(RoleSnapshot, r.snapshot.md.Signed.Version, r.snapshot.md.Signed.Expires),
		top(RoleTimestamp, r.timestamp.md.Signed.Version, r.timestamp.md.Signed.Expires))
	return info
}

// binFor returns the name of the bin a target path belongs to.
func (r *Repo) binFor(targetPath string) string {
	if !r.ready() {
		return ""
	}
	return r.succinct().GetRolesForTarget(targetPath)[0].Name
}

// result describes the repository's current roles with changed as the
// roles re-signed.
func (r *Repo) result(changed []string) *Result {
	res := &Result{Changed: changed, Versions: map[string]int64{}}
	add := func(n string, v int64) {
		res.Roles = append(res.Roles, n)
		res.Versions[n] = v
	}
	add(RoleRoot, r.root().Signed.Version)
	add(RoleTargets, r.targets.md.Signed.Version)
	if r.unclaimed.md != nil {
		add(RoleUnclaimed, r.unclaimed.md.Signed.Version)
	}
	pubNames := make([]string, 0, len(r.pubs))
	for n := range r.pubs {
		pubNames = append(pubNames, n)
	}
	slices.Sort(pubNames)
	for _, n := range pubNames {
		add(n, r.pubs[n].md.Signed.Version)
	}
	names := make([]string, 0, len(r.bins))
	for n := range r.bins {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		add(n, r.bins[n].version)
	}
	add(RoleSnapshot, r.snapshot.md.Signed.Version)
	add(RoleTimestamp, r.timestamp.md.Signed.Version)
	return res
}

// BinFor is the name of the hashed bin that signs targetPath ("" before
// the repository is initialised).
func (r *Repo) BinFor(targetPath string) string { return r.binFor(targetPath) }
