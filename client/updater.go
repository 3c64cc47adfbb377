package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/config"
	"github.com/theupdateframework/go-tuf/v2/metadata/updater"
)

// UpdaterConfig describes one TUF session against a repository: the
// low-level layer under Client, exported for tools that speak TUF
// directly (cmd/tuf-conformance-client).
type UpdaterConfig struct {
	MetadataURL string // base URL of the metadata files (…/metadata)
	TargetsURL  string // base URL of the target files (…/targets); never derived from MetadataURL; needed to download
	MetadataDir string // trusted metadata, go-tuf's non-versioned names (root.json, …)
	TargetsDir  string // verified target files, named by their escaped target path
	// TrustedRoot is the root to start the chain of trust from; nil means
	// MetadataDir/root.json, the newest root a previous session trusted.
	TrustedRoot []byte
	Fetcher     *Fetcher // nil means NewFetcher(FetcherOptions{})
	// LocalOnly makes Refresh load only the trusted metadata already in
	// MetadataDir, verified (signatures, expiry) but not updated: for
	// answering from the cache while the repository cannot be reached.
	LocalOnly bool
	Now       func() time.Time // reference time for expiry; nil means time.Now
}

// Updater is a go-tuf updater wired to a Fetcher and the cache layout.
// Like go-tuf's, it refreshes once and is not safe for concurrent use:
// build a new one for every refresh.
type Updater struct {
	up    *updater.Updater
	fetch *boundFetcher
	cfg   UpdaterConfig
}

// NewUpdater returns an Updater for cfg whose downloads are bound to ctx.
func NewUpdater(ctx context.Context, cfg UpdaterConfig) (*Updater, error) {
	if cfg.MetadataURL == "" || cfg.MetadataDir == "" || cfg.TargetsDir == "" {
		return nil, errors.New("updater: metadata URL, metadata dir and targets dir are required")
	}
	root := cfg.TrustedRoot
	if root == nil {
		var err error
		if root, err = os.ReadFile(filepath.Join(cfg.MetadataDir, "root.json")); err != nil {
			return nil, fmt.Errorf("updater: trusted root: %w", err)
		}
	}
	if cfg.Fetcher == nil {
		cfg.Fetcher = NewFetcher(FetcherOptions{})
	}
	tc, err := config.New(cfg.MetadataURL, root)
	if err != nil {
		return nil, fmt.Errorf("updater: %w", err)
	}
	bf := &boundFetcher{f: cfg.Fetcher, ctx: ctx}
	tc.Fetcher = bf
	tc.RemoteTargetsURL = cfg.TargetsURL
	tc.LocalMetadataDir = cfg.MetadataDir
	tc.LocalTargetsDir = cfg.TargetsDir
	tc.PrefixTargetsWithHash = true
	tc.UnsafeLocalMode = cfg.LocalOnly
	up, err := updater.New(tc)
	if err != nil {
		return nil, fmt.Errorf("updater: trusted root: %w", verification(err))
	}
	if cfg.Now != nil {
		up.UnsafeSetRefTime(cfg.Now().UTC())
	}
	return &Updater{up: up, fetch: bf, cfg: cfg}, nil
}

// SetContext binds the Updater's further downloads to ctx.
func (u *Updater) SetContext(ctx context.Context) { u.fetch.ctx = ctx }

// Refresh runs the TUF client workflow for the top-level roles (root,
// timestamp, snapshot, targets), persisting what it trusts.
func (u *Updater) Refresh() error { return verification(u.up.Refresh()) }

// TargetInfo returns the signed length and hashes of a target, loading
// the delegated (hashed bin) metadata it needs.
func (u *Updater) TargetInfo(targetPath string) (*metadata.TargetFiles, error) {
	tf, err := u.up.GetTargetInfo(targetPath)
	if err != nil {
		// go-tuf reports a target no role lists with this plain error.
		if err.Error() == fmt.Sprintf("target %s not found", targetPath) {
			return nil, &NotFoundError{Target: targetPath, Err: err}
		}
		return nil, verification(err)
	}
	return tf, nil
}

// CachePath is where the verified copy of targetPath lives in TargetsDir.
func (u *Updater) CachePath(targetPath string) string {
	return filepath.Join(u.cfg.TargetsDir, cacheName(targetPath))
}

// cacheName is the file name of a target in TargetsDir: the target path
// escaped into one path component ("/" becomes %2F). Target paths are
// arbitrary strings in TUF; ".", ".." and "" would name a directory, so
// they are escaped further.
func cacheName(targetPath string) string {
	switch s := url.PathEscape(targetPath); s {
	case "":
		return "%"
	case ".", "..":
		return strings.ReplaceAll(s, ".", "%2E")
	default:
		return s
	}
}

// Download returns the verified bytes of a target and the path of its
// verified copy in TargetsDir. A cached copy whose length and hashes
// still match the signed metadata is used as is; otherwise the target
// is downloaded (bounded by its signed length), verified by go-tuf and
// stored atomically.
func (u *Updater) Download(tf *metadata.TargetFiles) ([]byte, string, error) {
	local := u.CachePath(tf.Path)
	if p, data, err := u.up.FindCachedTarget(tf, local); err == nil && p != "" {
		return data, p, nil
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := local + ".tmp-" + hex.EncodeToString(rnd[:])
	_, data, err := u.up.DownloadTarget(tf, tmp, "")
	if err != nil {
		os.Remove(tmp)
		return nil, "", verification(err)
	}
	if err := os.Rename(tmp, local); err != nil {
		os.Remove(tmp)
		return nil, "", fmt.Errorf("cache %s: %w", tf.Path, err)
	}
	return data, local, nil
}

// DownloadContext is Download bound to ctx rather than to the updater's
// context, and safe to call concurrently (with each other, not with a
// refresh or a target lookup): it touches only the trusted root, read
// only, and the cache file of tf, replaced atomically.
func (u *Updater) DownloadContext(ctx context.Context, tf *metadata.TargetFiles) ([]byte, error) {
	local := u.CachePath(tf.Path)
	if data, err := os.ReadFile(local); err == nil && tf.VerifyLengthHashes(data) == nil {
		return data, nil
	}
	sha := hex.EncodeToString(tf.Hashes["sha256"])
	if sha == "" {
		return nil, &VerificationError{Err: fmt.Errorf("target %s: no sha256 signed", tf.Path)}
	}
	name := tf.Path
	if u.up.GetTrustedMetadataSet().Root.Signed.ConsistentSnapshot {
		dir, base := path.Split(tf.Path)
		name = dir + sha + "." + base
	}
	data, err := u.cfg.Fetcher.Download(ctx, strings.TrimRight(u.cfg.TargetsURL, "/")+"/"+name, tf.Length)
	if err != nil {
		return nil, verification(err)
	}
	if err := tf.VerifyLengthHashes(data); err != nil {
		return nil, verification(err)
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := local + ".tmp-" + hex.EncodeToString(rnd[:])
	if err := os.WriteFile(tmp, data, 0o644); err == nil {
		if os.Rename(tmp, local) != nil {
			os.Remove(tmp)
		}
	}
	return data, nil
}

// Roles lists the trusted top-level roles and, for each target path
// given, the delegated role responsible for it (after Refresh).
func (u *Updater) Roles(targetPaths ...string) []index.RoleInfo {
	t := u.up.GetTrustedMetadataSet()
	if t.Root == nil {
		return nil
	}
	r := t.Root.Signed
	role := func(name string, version int64, exp time.Time) index.RoleInfo {
		ri := index.RoleInfo{Name: name, Version: version, Expires: exp}
		if rr, ok := r.Roles[name]; ok {
			ri.Threshold, ri.KeyIDs = rr.Threshold, rr.KeyIDs
		}
		return ri
	}
	out := []index.RoleInfo{role(metadata.ROOT, r.Version, r.Expires)}
	if t.Timestamp != nil {
		out = append(out, role(metadata.TIMESTAMP, t.Timestamp.Signed.Version, t.Timestamp.Signed.Expires))
	}
	if t.Snapshot != nil {
		out = append(out, role(metadata.SNAPSHOT, t.Snapshot.Signed.Version, t.Snapshot.Signed.Expires))
	}
	top := t.Targets[metadata.TARGETS]
	if top == nil {
		return out
	}
	out = append(out, role(metadata.TARGETS, top.Signed.Version, top.Signed.Expires))
	seen := map[string]bool{}
	var chain []index.RoleInfo
	for _, p := range targetPaths {
		for _, ri := range u.SignerChain(p) {
			if !seen[ri.Name] {
				seen[ri.Name] = true
				chain = append(chain, ri)
			}
		}
	}
	slices.SortFunc(chain, func(a, b index.RoleInfo) int { return strings.Compare(a.Name, b.Name) })
	return append(out, chain...)
}

// SignerChain returns the delegated roles, below targets, through which
// the trusted metadata vouches for targetPath — for a claimed package
// [pub-<publisher>], for anything else [unclaimed, bins-…] — or nil when
// no loaded role lists it. It reads only metadata go-tuf has verified
// (call TargetInfo first), walking the delegations as TUF's preorder
// search does: in order, stopping at a terminating role.
func (u *Updater) SignerChain(targetPath string) []index.RoleInfo {
	t := u.up.GetTrustedMetadataSet()
	top := t.Targets[metadata.TARGETS]
	if top == nil {
		return nil
	}
	chain, _ := u.walk(top, targetPath, 0)
	return chain
}

// walk searches the roles md delegates to; stop reports a terminating
// match without the target.
func (u *Updater) walk(md *metadata.Metadata[metadata.TargetsType], targetPath string, depth int) (chain []index.RoleInfo, stop bool) {
	d := md.Signed.Delegations
	if d == nil || depth > 8 {
		return nil, false
	}
	t := u.up.GetTrustedMetadataSet()
	visit := func(name string, keyids []string, threshold int) ([]index.RoleInfo, bool) {
		m := t.Targets[name]
		if m == nil {
			return nil, false
		}
		ri := index.RoleInfo{Name: name, Version: m.Signed.Version, Expires: m.Signed.Expires, Threshold: threshold, KeyIDs: slices.Clone(keyids)}
		if _, ok := m.Signed.Targets[targetPath]; ok {
			return []index.RoleInfo{ri}, true
		}
		if sub, _ := u.walk(m, targetPath, depth+1); sub != nil {
			return append([]index.RoleInfo{ri}, sub...), true
		}
		return nil, false
	}
	if sr := d.SuccinctRoles; sr != nil {
		for _, rr := range sr.GetRolesForTarget(targetPath) {
			if c, ok := visit(rr.Name, sr.KeyIDs, sr.Threshold); ok {
				return c, false
			}
		}
		return nil, false
	}
	for _, dr := range d.Roles {
		if ok, err := dr.IsDelegatedPath(targetPath); err != nil || !ok {
			continue
		}
		if c, ok := visit(dr.Name, dr.KeyIDs, dr.Threshold); ok {
			return c, false
		}
		if dr.Terminating {
			return nil, true
		}
	}
	return nil, false
}

// forgetBins makes go-tuf drop the hashed bins it has loaded — roles a
// loaded role's succinct delegation names — but the bin that holds
// targetPath. go-tuf keeps every delegated role it loads for the
// updater's life; Check looks targets up in bin order, so the bins
// behind it are not needed again, and one that is is loaded again the
// way go-tuf loads any delegated role (from the verified cache, or
// downloaded at the version the trusted snapshot names), verified
// afresh. Roles delegated by name (publishers, unclaimed) stay.
func (u *Updater) forgetBins(targetPath string) {
	t := u.up.GetTrustedMetadataSet()
	var srs []*metadata.SuccinctRoles
	for _, md := range t.Targets {
		if d := md.Signed.Delegations; d != nil && d.SuccinctRoles != nil {
			srs = append(srs, d.SuccinctRoles)
		}
	}
	if len(srs) == 0 {
		return
	}
	for name := range t.Targets {
		for _, sr := range srs {
			if sr.IsDelegatedRole(name) && sr.GetRolesForTarget(targetPath)[0].Name != name {
				delete(t.Targets, name)
				break
			}
		}
	}
}

// DelegatedRole returns the verified metadata of a role targets
// delegates to (a publisher's pub-<name>), loading it the way a target
// lookup would; nil when the role is delegated but has signed nothing
// yet. It is an error when targets does not delegate to name.
func (u *Updater) DelegatedRole(name string) ([]byte, error) {
	t := u.up.GetTrustedMetadataSet()
	top := t.Targets[metadata.TARGETS]
	if top == nil || top.Signed.Delegations == nil {
		return nil, fmt.Errorf("role %s: targets delegates nothing", name)
	}
	var dr *metadata.DelegatedRole
	for i := range top.Signed.Delegations.Roles {
		if top.Signed.Delegations.Roles[i].Name == name {
			dr = &top.Signed.Delegations.Roles[i]
		}
	}
	if dr == nil || len(dr.Paths) == 0 {
		return nil, &NotFoundError{Target: name + ".json", Err: fmt.Errorf("targets does not delegate to %s", name)}
	}
	if t.Snapshot == nil || t.Snapshot.Signed.Meta[name+".json"] == nil {
		return nil, nil // granted, nothing published yet
	}
	// go-tuf loads a delegated role on the way to a target it may list:
	// look up a path only that role can hold.
	probe := strings.ReplaceAll(dr.Paths[0], "*", "0")
	if _, err := u.up.GetTargetInfo(probe); err != nil && t.Targets[name] == nil {
		return nil, verification(err)
	}
	md := u.up.GetTrustedMetadataSet().Targets[name]
	if md == nil {
		return nil, fmt.Errorf("role %s: not loaded", name)
	}
	return md.ToBytes(false)
}
