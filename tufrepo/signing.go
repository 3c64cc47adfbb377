package tufrepo

import (
	"fmt"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// signing is one apply: each role is re-signed when its content changed,
// it is forced, or it expires within half its period, in delegation order
// (targets, bins, snapshot, timestamp), each taking what the one before
// produced. Nothing of r changes until every role is signed.
type signing struct {
	r        *Repo
	kr       *Keyring
	cfg      Config
	now      time.Time
	p        plan
	changed  []string
	warnings []string

	tgt     signedMeta[metadata.TargetsType]
	uncl    signedMeta[metadata.TargetsType]
	binsOut map[string]binMeta
	snap    signedMeta[metadata.SnapshotType]
	ts      signedMeta[metadata.TimestampType]
}

// targets is re-signed only when its delegations change (a signing
// event: grants, the bins key) or it is due for renewal. Its key belongs
// offline: a renewal without the key is a warning until the role would
// expire.
func (sg *signing) targets() error {
	sg.tgt = sg.r.targets
	tgt := sg.tgt
	changed := tgt.md == nil || sg.p.force[RoleTargets] || !delegationsEqual(tgt.md.Signed.Delegations, sg.p.top)
	if !changed && !sg.cfg.stale(RoleTargets, tgt.md.Signed.Expires, sg.now) {
		return nil
	}
	keys, err := sg.r.roleSigners(sg.kr, RoleTargets)
	if err != nil && !changed && tgt.md.Signed.Expires.After(sg.now) {
		sg.warnings = append(sg.warnings, fmt.Sprintf("targets version %d expires %s: renew it in an offline signing event with the targets key (ebpfrepo build with EBPFREPO_TARGETS_KEY)",
			tgt.md.Signed.Version, tgt.md.Signed.Expires.UTC().Format(time.RFC3339)))
		return nil
	}
	if err != nil {
		if sg.r.unclaimed.md == nil {
			return fmt.Errorf("%w (the repository's metadata predates publisher delegations: one build with the targets key at hand upgrades it, see docs/keys.md)", err)
		}
		return err
	}
	md := metadata.Targets(sg.cfg.expiry(RoleTargets, sg.now))
	if tgt.md != nil {
		md.Signed.Version = tgt.md.Signed.Version + 1
	}
	md.Signed.Delegations = sg.p.top
	md.Signed.Targets = sg.p.topFiles
	if md.Signed.Targets == nil && tgt.md != nil {
		md.Signed.Targets = tgt.md.Signed.Targets // renewal, grants: the files stay listed
	}
	if md.Signed.Targets == nil {
		md.Signed.Targets = map[string]*metadata.TargetFiles{}
	}
	raw, err := signBytes(md, keys)
	if err != nil {
		return fmt.Errorf("tufrepo: sign targets: %w", err)
	}
	sg.tgt = signedMeta[metadata.TargetsType]{md, raw}
	sg.changed = append(sg.changed, RoleTargets)
	return nil
}

// unclaimed delegates to the bins; it is signed by the bins key.
func (sg *signing) unclaimed() error {
	sg.uncl = sg.r.unclaimed
	u := sg.uncl
	if u.md != nil && !sg.p.force[RoleUnclaimed] && !sg.p.force[RoleBins] && delegationsEqual(u.md.Signed.Delegations, sg.p.deleg) &&
		!sg.cfg.stale(RoleBins, u.md.Signed.Expires, sg.now) {
		return nil
	}
	md := metadata.Targets(sg.cfg.expiry(RoleBins, sg.now))
	if u.md != nil {
		md.Signed.Version = u.md.Signed.Version + 1
	}
	md.Signed.Delegations = sg.p.deleg
	ur := unclaimedRoleOf(sg.tgt.md)
	if ur == nil {
		return fmt.Errorf("tufrepo: targets does not delegate to %s", RoleUnclaimed)
	}
	keys, err := sg.kr.signers(RoleBins, RoleUnclaimed, ur.KeyIDs, ur.Threshold)
	if err != nil {
		return err
	}
	raw, err := signBytes(md, keys)
	if err != nil {
		return fmt.Errorf("tufrepo: sign %s: %w", RoleUnclaimed, err)
	}
	sg.uncl = signedMeta[metadata.TargetsType]{md, raw}
	sg.changed = append(sg.changed, RoleUnclaimed)
	return nil
}

// bins re-signs only the bins whose content digest differs (or that
// expire, or are forced): the others keep their bytes untouched.
func (sg *signing) bins() error {
	sr := sg.p.deleg.SuccinctRoles
	names := sr.GetRoles()
	sg.binsOut = make(map[string]binMeta, len(names))
	var todo []binJob
	for _, n := range names {
		cur, ok := sg.r.bins[n]
		var want []binEntry
		same := ok // p.bins nil: each bin keeps its targets
		if sg.p.bins != nil {
			want = sg.p.bins[n]
			same = ok && cur.plain && cur.digest == binDigest(want)
		}
		if same && !sg.p.force[RoleBins] && !sg.cfg.stale(RoleBins, cur.expires, sg.now) {
			sg.binsOut[n] = cur
			continue
		}
		j := binJob{name: n, version: sg.r.binVersion(n) + 1, want: want}
		if sg.p.bins == nil && ok {
			j.old = &cur // re-signed with the targets it has
		}
		todo = append(todo, j)
	}
	if len(todo) == 0 {
		return nil
	}
	keys, err := sg.kr.signers(RoleBins, RoleBins, sr.KeyIDs, sr.Threshold)
	if err != nil {
		return err
	}
	signed, err := signBins(todo, keys, sg.cfg.expiry(RoleBins, sg.now))
	if err != nil {
		return err
	}
	for i, j := range todo {
		sg.binsOut[j.name] = signed[i]
		sg.changed = append(sg.changed, j.name)
	}
	return nil
}

// snapshot lists every targets metadata version; bins no longer
// delegated keep their entries.
func (sg *signing) snapshot() error {
	sg.snap = sg.r.snapshot
	snap := sg.snap
	meta := map[string]*metadata.MetaFiles{}
	if snap.md != nil {
		for n, m := range snap.md.Signed.Meta {
			meta[n] = metadata.MetaFile(m.Version)
		}
	}
	meta[RoleTargets+".json"] = metadata.MetaFile(sg.tgt.md.Signed.Version)
	meta[RoleUnclaimed+".json"] = metadata.MetaFile(sg.uncl.md.Signed.Version)
	for n, s := range sg.r.pubs {
		meta[n+".json"] = metadata.MetaFile(s.md.Signed.Version)
	}
	for n, b := range sg.binsOut {
		meta[n+".json"] = metadata.MetaFile(b.version)
	}
	if snap.md != nil && !sg.p.force[RoleSnapshot] && metaEqual(snap.md.Signed.Meta, meta) && !sg.cfg.stale(RoleSnapshot, snap.md.Signed.Expires, sg.now) {
		return nil
	}
	md := metadata.Snapshot(sg.cfg.expiry(RoleSnapshot, sg.now))
	if snap.md != nil {
		md.Signed.Version = snap.md.Signed.Version + 1
	}
	md.Signed.Meta = meta
	keys, err := sg.r.roleSigners(sg.kr, RoleSnapshot)
	if err != nil {
		return err
	}
	raw, err := signBytes(md, keys)
	if err != nil {
		return fmt.Errorf("tufrepo: sign snapshot: %w", err)
	}
	sg.snap = signedMeta[metadata.SnapshotType]{md, raw}
	sg.changed = append(sg.changed, RoleSnapshot)
	return nil
}

func (sg *signing) timestamp() error {
	sg.ts = sg.r.timestamp
	ts := sg.ts
	if ts.md != nil && !sg.p.force[RoleTimestamp] && ts.md.Signed.Meta[RoleSnapshot+".json"].Version == sg.snap.md.Signed.Version &&
		!sg.cfg.stale(RoleTimestamp, ts.md.Signed.Expires, sg.now) {
		return nil
	}
	var err error
	if sg.ts, err = sg.r.signTimestamp(sg.kr, sg.cfg, sg.now, sg.snap.md.Signed.Version); err != nil {
		return err
	}
	sg.changed = append(sg.changed, RoleTimestamp)
	return nil
}
