package tufrepo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// maxTargetPath bounds a target path.
const maxTargetPath = 1024

// TargetError is an invalid entry of the target list given to Update.
type TargetError struct {
	Path  string
	Field string
	Msg   string
}

func (e *TargetError) Error() string {
	return fmt.Sprintf("tufrepo: target %q: %s: %s", e.Path, e.Field, e.Msg)
}

// plan is the wanted state of targets, unclaimed and the bins.
type plan struct {
	top   *metadata.Delegations // of targets: the publishers, then unclaimed
	deleg *metadata.Delegations // of unclaimed: the succinct bins
	// bins holds the wanted targets of each bin; nil keeps every bin's
	// current targets (key changes).
	bins map[string][]binEntry
	// force re-signs these roles even if unchanged: RoleTargets,
	// RoleBins (every bin), RoleSnapshot, RoleTimestamp.
	force map[string]bool
	// topFiles are the targets the top-level targets role lists itself;
	// nil keeps the current ones.
	topFiles map[string]*metadata.TargetFiles
}

// Update makes targets the complete target list of the repository. It
// assigns each target to its bin (go-tuf's SuccinctRoles) and re-signs
// only what changed, each with version+1 and expiry now+period:
//   - a bin whose targets changed;
//   - targets, when its delegation changed (bin bits);
//   - snapshot, when targets or a bin was re-signed;
//   - timestamp, when snapshot was re-signed.
//
// A role that would expire within half its period is re-signed even if
// unchanged. With no change nothing is re-signed and Files returns the
// same bytes as before. Keys needs only the keys of the roles re-signed.
// Update never re-signs root (its keys belong offline); Result.Warnings
// says when root expires within half its period (see RenewRoot).
//
// cfg.BinBits 0 sizes the bins with BinBitsFor(len(targets)) but never
// shrinks them. Changing the bit length re-signs targets and every bin;
// bins that no longer exist stay listed in snapshot with their last
// version, as TUF clients refuse a snapshot that drops an entry.
func (r *Repo) Update(ctx context.Context, targets []Target) (*Result, error) {
	kr, cfg, now := r.opts.keys(), r.opts.Config, r.opts.now()
	if !r.ready() {
		return nil, errNotReady
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sr := r.succinct()
	bits := cfg.BinBits
	if bits == 0 {
		bits = max(BinBitsFor(len(targets)), sr.BitLength)
	}
	deleg := cloneDelegations(r.binDelegator().Signed.Delegations)
	deleg.SuccinctRoles.BitLength = bits
	grants := r.Grants()
	names := deleg.SuccinctRoles.GetRoles()
	byBin, err := r.groupTargets(targets, grants, bits, len(names))
	if err != nil {
		return nil, err
	}
	want := make(map[string][]binEntry, len(names))
	for i, n := range names {
		want[n] = byBin[i]
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res, err := r.apply(kr, cfg, now, plan{top: r.topNow(deleg), deleg: deleg, bins: want})
	if err != nil {
		return nil, err
	}
	root := r.root().Signed
	if cfg.stale(RoleRoot, root.Expires, now) {
		res.Warnings = append(res.Warnings, fmt.Sprintf("root version %d expires %s: sign a new root version with the root keys (renew or rotate) before clients refuse the repository",
			root.Version, root.Expires.Format(time.RFC3339)))
	}
	return res, nil
}

// binIndex is the number of the succinct bin of bits bits that holds
// targetPath: go-tuf's SuccinctRoles.GetRolesForTarget (the leading bits
// of the path's sha256) without formatting the name per target.
func binIndex(targetPath string, bits int) int {
	var buf [256]byte // a path this long or shorter is hashed without an allocation
	h := sha256.Sum256(append(buf[:0], targetPath...))
	return int(binary.BigEndian.Uint32(h[:4]) >> (32 - bits))
}

// groupTargets checks targets and puts each not claimed by a publisher in
// its bin (of n), sorted by path. Each bin's list is allocated at its
// size (they were grown by doubling: 3 MB for 1.4 MB of entries at
// 25,000 targets), and a path listed twice is found in its bin, where
// the sort brings the two together (a set of every path was 0.9 MB more).
func (r *Repo) groupTargets(targets []Target, grants []Grant, bits, n int) ([][]binEntry, error) {
	bin := make([]int32, len(targets)) // -1: claimed
	count := make([]int, n)
	var claimedPaths map[string]bool
	for i := range targets {
		t := &targets[i]
		if _, err := checkTarget(t); err != nil {
			return nil, err
		}
		claimed, err := r.checkClaimed(grants, t)
		if err != nil {
			return nil, err
		}
		if claimed { // its publisher's role lists it: not in a bin
			if claimedPaths[t.Path] {
				return nil, &TargetError{Path: t.Path, Field: "path", Msg: "listed twice"}
			}
			if claimedPaths == nil {
				claimedPaths = map[string]bool{}
			}
			claimedPaths[t.Path], bin[i] = true, -1
			continue
		}
		bin[i] = int32(binIndex(t.Path, bits))
		count[bin[i]]++
	}
	byBin := make([][]binEntry, n)
	for i, c := range count {
		if c > 0 {
			byBin[i] = make([]binEntry, 0, c)
		}
	}
	for i := range targets {
		if bin[i] < 0 {
			continue
		}
		t := &targets[i]
		e := binEntry{path: t.Path, length: t.Length}
		hex.Decode(e.sum[:], []byte(t.SHA256)) // checked in the first pass
		byBin[bin[i]] = append(byBin[bin[i]], e)
	}
	for _, es := range byBin {
		slices.SortFunc(es, func(a, b binEntry) int { return strings.Compare(a.path, b.path) })
		for j := 1; j < len(es); j++ {
			if es[j].path == es[j-1].path {
				return nil, &TargetError{Path: es[j].path, Field: "path", Msg: "listed twice"}
			}
		}
	}
	return byBin, nil
}

// checkTarget validates t and returns its decoded sha256.
func checkTarget(t *Target) ([sha256.Size]byte, error) {
	p := t.Path
	var sum [sha256.Size]byte
	bad := func(field, msg string) ([sha256.Size]byte, error) {
		return sum, &TargetError{Path: p, Field: field, Msg: msg}
	}
	switch {
	case p == "":
		return bad("path", "empty")
	case len(p) > maxTargetPath:
		return bad("path", fmt.Sprintf("longer than %d bytes", maxTargetPath))
	case !utf8.ValidString(p):
		return bad("path", "not UTF-8")
	case strings.ContainsAny(p, "\\\x00") || strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return bad("path", "backslash or control character")
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return bad("path", "must be relative, without empty, . or .. segments")
		}
	}
	if t.Length < 0 {
		return bad("length", "negative")
	}
	if len(t.SHA256) != 2*sha256.Size || strings.ContainsFunc(t.SHA256, func(r rune) bool { return r >= 'A' && r <= 'Z' }) {
		return bad("sha256", "want 64 lowercase hex digits")
	}
	if _, err := hex.Decode(sum[:], []byte(t.SHA256)); err != nil {
		return bad("sha256", "want 64 lowercase hex digits")
	}
	return sum, nil
}

func cloneDelegations(d *metadata.Delegations) *metadata.Delegations {
	c := &metadata.Delegations{Keys: make(map[string]*metadata.Key, len(d.Keys))}
	for id, k := range d.Keys {
		c.Keys[id] = k
	}
	if d.SuccinctRoles != nil {
		sr := *d.SuccinctRoles
		sr.KeyIDs = slices.Clone(sr.KeyIDs)
		c.SuccinctRoles = &sr
	}
	for _, dr := range d.Roles {
		dr.KeyIDs, dr.Paths, dr.PathHashPrefixes = slices.Clone(dr.KeyIDs), slices.Clone(dr.Paths), slices.Clone(dr.PathHashPrefixes)
		c.Roles = append(c.Roles, dr)
	}
	return c
}

// unchangedPlan keeps every delegation and every bin's targets.
func (r *Repo) unchangedPlan(force map[string]bool) plan {
	deleg := cloneDelegations(r.binDelegator().Signed.Delegations)
	return plan{top: r.topNow(deleg), deleg: deleg, force: force}
}

// topNow is targets' delegations as they should be: the current grants,
// then unclaimed signed by the bins keys of deleg.
func (r *Repo) topNow(deleg *metadata.Delegations) *metadata.Delegations {
	if r.unclaimed.md != nil {
		return cloneDelegations(r.targets.md.Signed.Delegations)
	}
	// Metadata from before publisher delegations: the new shape.
	return topDelegations(nil, deleg.Keys, deleg.SuccinctRoles.KeyIDs)
}

func unclaimedRoleOf(targets *metadata.Metadata[metadata.TargetsType]) *metadata.DelegatedRole {
	if targets == nil || targets.Signed.Delegations == nil {
		return nil
	}
	for i, dr := range targets.Signed.Delegations.Roles {
		if dr.Name == RoleUnclaimed {
			return &targets.Signed.Delegations.Roles[i]
		}
	}
	return nil
}

// ClaimError is a target of a claimed package whose publisher's role
// does not vouch for it as given.
type ClaimError = PublisherRoleError

// checkClaimed reports whether t belongs to a publisher; if so its role
// must list t with the same length and sha256.
func (r *Repo) checkClaimed(grants []Grant, t *Target) (bool, error) {
	pkg := packageOf(t.Path)
	if pkg == "" {
		return false, nil
	}
	for _, g := range grants {
		if !g.Claims(pkg) {
			continue
		}
		s, ok := r.pubs[g.Role()]
		if !ok {
			return true, &PublisherRoleError{Publisher: g.Publisher, Target: t.Path, Err: ErrTargetMissing}
		}
		tf, ok := s.md.Signed.Targets[t.Path]
		if !ok {
			return true, &PublisherRoleError{Publisher: g.Publisher, Target: t.Path, Err: ErrTargetMissing}
		}
		if tf.Length != t.Length || hex.EncodeToString(tf.Hashes["sha256"]) != t.SHA256 {
			return true, &PublisherRoleError{Publisher: g.Publisher, Target: t.Path, Err: fmt.Errorf("%w: signed %d bytes sha256 %x, artifact %d bytes sha256 %s",
				ErrTargetMismatch, tf.Length, tf.Hashes["sha256"], t.Length, t.SHA256)}
		}
		return true, nil
	}
	return false, nil
}

func delegationsEqual(a, b *metadata.Delegations) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

func metaEqual(a, b map[string]*metadata.MetaFiles) bool {
	if len(a) != len(b) {
		return false
	}
	for n, x := range a {
		y, ok := b[n]
		if !ok || x.Version != y.Version || x.Length != y.Length || len(x.Hashes) != 0 || len(y.Hashes) != 0 {
			return false
		}
	}
	return true
}

// binVersion is the highest version a bin name ever had.
func (r *Repo) binVersion(name string) int64 {
	var v int64
	if b, ok := r.bins[name]; ok {
		v = b.version
	}
	if r.snapshot.md != nil {
		if m := r.snapshot.md.Signed.Meta[name+".json"]; m != nil {
			v = max(v, m.Version)
		}
	}
	return v
}

// roleSigners returns the keys at hand for a top-level role.
func (r *Repo) roleSigners(kr *Keyring, role string) ([]*Key, error) {
	rr := r.root().Signed.Roles[role]
	return kr.signers(role, role, rr.KeyIDs, rr.Threshold)
}

// apply signs what differs between the repository and p, then, only if
// everything signed, makes it the repository's state.
func (r *Repo) apply(kr *Keyring, cfg Config, now time.Time, p plan) (*Result, error) {
	if r.partial {
		return nil, errors.New("tufrepo: loaded without the bins (LoadClaims): read only")
	}
	sg := &signing{r: r, kr: kr, cfg: cfg, now: now, p: p}
	for _, stage := range []func() error{sg.targets, sg.unclaimed, sg.bins, sg.snapshot, sg.timestamp} {
		if err := stage(); err != nil {
			return nil, err
		}
	}
	r.targets, r.unclaimed, r.bins, r.snapshot, r.timestamp = sg.tgt, sg.uncl, sg.binsOut, sg.snap, sg.ts
	res := r.result(sg.changed)
	res.Warnings = append(res.Warnings, sg.warnings...)
	return res, nil
}

func (r *Repo) signTimestamp(kr *Keyring, cfg Config, now time.Time, snapVersion int64) (signedMeta[metadata.TimestampType], error) {
	md := metadata.Timestamp(cfg.expiry(RoleTimestamp, now))
	if r.timestamp.md != nil {
		md.Signed.Version = r.timestamp.md.Signed.Version + 1
	}
	md.Signed.Meta = map[string]*metadata.MetaFiles{RoleSnapshot + ".json": metadata.MetaFile(snapVersion)}
	keys, err := r.roleSigners(kr, RoleTimestamp)
	if err != nil {
		return signedMeta[metadata.TimestampType]{}, err
	}
	raw, err := signBytes(md, keys)
	if err != nil {
		return signedMeta[metadata.TimestampType]{}, fmt.Errorf("tufrepo: sign timestamp: %w", err)
	}
	return signedMeta[metadata.TimestampType]{md, raw}, nil
}

// Timestamp re-signs only the timestamp: version+1, expiry now+period,
// for the current snapshot. Keys needs only the timestamp key. This is
// what the `ebpfrepo timestamp` cron job runs; it does not renew an
// expiring snapshot (see Refresh and Expiring).
func (r *Repo) Timestamp() error {
	kr, cfg, now := r.opts.keys(), r.opts.Config, r.opts.now()
	if !r.ready() {
		return errNotReady
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	ts, err := r.signTimestamp(kr, cfg, now, r.snapshot.md.Signed.Version)
	if err != nil {
		return err
	}
	r.timestamp = ts
	return nil
}

// Refresh re-signs, with no other change, every role that expires
// within half its period: bins, targets, snapshot and timestamp, as a
// no-change Update would, without needing the target list. Keys needs the
// keys of the roles re-signed only. A schedule that runs only Timestamp
// lets snapshot (7 days by default) expire: run Refresh (or a build) at
// least every few days too.
func (r *Repo) Refresh() (*Result, error) {
	kr, cfg, now := r.opts.keys(), r.opts.Config, r.opts.now()
	if !r.ready() {
		return nil, errNotReady
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	res, err := r.apply(kr, cfg, now, r.unchangedPlan(nil))
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Expiring lists the roles (bins by name) that expire within half their
// period at now, root included: what Refresh (or, for root, RenewRoot)
// would re-sign.
func (r *Repo) Expiring() []string {
	cfg, now := r.opts.Config, r.opts.now()
	if !r.ready() {
		return nil
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil
	}
	var out []string
	check := func(role, name string, exp time.Time) {
		if cfg.stale(role, exp, now) {
			out = append(out, name)
		}
	}
	check(RoleRoot, RoleRoot, r.root().Signed.Expires)
	check(RoleTargets, RoleTargets, r.targets.md.Signed.Expires)
	for _, n := range r.succinct().GetRoles() {
		check(RoleBins, n, r.bins[n].expires)
	}
	check(RoleSnapshot, RoleSnapshot, r.snapshot.md.Signed.Expires)
	check(RoleTimestamp, RoleTimestamp, r.timestamp.md.Signed.Expires)
	return out
}

// signBytes signs md with keys (after clearing old signatures: Sign
// appends) and returns its published bytes (compact JSON, sorted keys).
func signBytes[T metadata.Roles](md *metadata.Metadata[T], keys []*Key) ([]byte, error) {
	md.ClearSignatures()
	for _, k := range keys {
		s, err := k.signer()
		if err != nil {
			return nil, err
		}
		if _, err := md.Sign(s); err != nil {
			return nil, err
		}
	}
	return md.ToBytes(false)
}

// binJob is a bin to sign: version, and its targets (want, or those of
// old when set).
type binJob struct {
	name    string
	version int64
	want    []binEntry
	old     *binMeta
}

// metadata is the go-tuf form of the bin j signs.
func (j binJob) metadata(expires time.Time) (*metadata.Metadata[metadata.TargetsType], error) {
	md := metadata.Targets(expires)
	md.Signed.Version = j.version
	if j.old == nil {
		md.Signed.Targets = targetFiles(j.want)
		return md, nil
	}
	old, err := j.old.parse()
	if err != nil {
		return nil, fmt.Errorf("re-sign %s: %w", j.name, err)
	}
	md.Signed.Targets = old.Signed.Targets
	return md, nil
}

// signBins signs the bins of jobs in parallel. Each worker builds one
// bin's go-tuf form, signs it and keeps only its bytes and summary
// (binMeta): at most one parsed bin per worker is held at a time, never
// every bin of a cold build at once.
func signBins(jobs []binJob, keys []*Key, expires time.Time) ([]binMeta, error) {
	out := make([]binMeta, len(jobs))
	errs := make([]error, len(jobs))
	workers := min(runtime.GOMAXPROCS(0), len(jobs))
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				md, err := jobs[i].metadata(expires)
				if err != nil {
					errs[i] = err
					continue
				}
				raw, err := signBytes(md, keys)
				if err != nil {
					errs[i] = fmt.Errorf("sign %s version %d: %w", jobs[i].name, md.Signed.Version, err)
					continue
				}
				out[i] = newBinMeta(md, raw)
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("tufrepo: %w", err)
		}
	}
	return out, nil
}

// CanSign reports, before any signing starts, whether the keys at hand
// meet role's threshold in the current root; the error names the role,
// its trusted key ids and where to put the key.
func (r *Repo) CanSign(role string) error {
	if !r.ready() {
		return errNotReady
	}
	if r.root().Signed.Roles[role] == nil {
		return fmt.Errorf("tufrepo: no role %q in root.json", role)
	}
	_, err := r.roleSigners(r.opts.keys(), role)
	return err
}
