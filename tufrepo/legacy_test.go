package tufrepo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// writeLegacy writes, into dir, metadata in the shape repositories had
// before publisher delegations: targets delegates to the succinct bins
// directly. It returns the targets it lists (with their data).
func writeLegacy(t *testing.T, dir string, kr *Keyring, r *Repo) ([]Target, map[string][]byte) {
	t.Helper()
	targets, data := makeTargets(20, "legacy")
	exp := testNow.Add(30 * 24 * time.Hour).UTC().Truncate(time.Second)
	deleg, err := binsDelegation(kr.Keys(RoleBins), 2)
	if err != nil {
		t.Fatal(err)
	}
	top := metadata.Targets(exp)
	top.Signed.Delegations = deleg
	files := map[string][]byte{}
	snap := metadata.Snapshot(exp)
	snap.Signed.Meta = map[string]*metadata.MetaFiles{"targets.json": metadata.MetaFile(1)}
	byBin := map[string]*metadata.Metadata[metadata.TargetsType]{}
	for _, n := range deleg.SuccinctRoles.GetRoles() {
		byBin[n] = metadata.Targets(exp)
	}
	for _, tg := range targets {
		n := deleg.SuccinctRoles.GetRolesForTarget(tg.Path)[0].Name
		byBin[n].Signed.Targets[tg.Path], _ = metadata.TargetFile().FromBytes(tg.Path, data[tg.Path])
	}
	for n, md := range byBin {
		raw, err := signBytes(md, kr.Keys(RoleBins))
		if err != nil {
			t.Fatal(err)
		}
		files[fmt.Sprintf("1.%s.json", n)] = raw
		snap.Signed.Meta[n+".json"] = metadata.MetaFile(1)
	}
	raw, err := signBytes(top, kr.Keys(RoleTargets))
	if err != nil {
		t.Fatal(err)
	}
	files["1.targets.json"] = raw
	if files["1.snapshot.json"], err = signBytes(snap, kr.Keys(RoleSnapshot)); err != nil {
		t.Fatal(err)
	}
	ts := metadata.Timestamp(exp)
	ts.Signed.Meta["snapshot.json"] = metadata.MetaFile(1)
	if files["timestamp.json"], err = signBytes(ts, kr.Keys(RoleTimestamp)); err != nil {
		t.Fatal(err)
	}
	files["1.root.json"] = r.rootJSON(1)
	os.MkdirAll(dir, 0o755)
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return targets, data
}

// TestLegacyUpgrade: a repository from before publisher delegations loads,
// refuses to upgrade without the targets key (saying how), upgrades with
// it in one Update, and a client that trusted the old shape follows.
func TestLegacyUpgrade(t *testing.T) {
	ctx := context.Background()
	kr := newKeyring(t, 1)
	fresh, err := Init(Options{Keys: kr, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	targets, data := writeLegacy(t, dir, kr, fresh)

	s := newSite()
	old, err := Load(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !old.Legacy() {
		t.Fatal("legacy metadata not recognised")
	}
	s.publish(old, data)
	srv := s.serve(t)
	c := newClient(t, srv, fresh.rootJSON(1), testNow)
	if _, err := c.refresh(); err != nil {
		t.Fatalf("client on the legacy shape: %v", err)
	}

	// CI without the targets key: a clear error, nothing changed.
	ci, err := Load(ctx, dir, Options{Keys: kr.With(RoleTargets), Now: testNow.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ci.Update(ctx, targets); err == nil || !strings.Contains(err.Error(), "predates publisher delegations") {
		t.Fatalf("upgrade without the targets key: %v, want an error saying how to upgrade", err)
	}

	// One Update with the targets key upgrades; clients follow.
	up, err := Load(ctx, dir, Options{Keys: kr, Now: testNow.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	res, err := up.Update(ctx, targets)
	if err != nil {
		t.Fatal(err)
	}
	if up.Legacy() || !containsAll(res.Changed, RoleTargets, RoleUnclaimed, RoleSnapshot, RoleTimestamp) {
		t.Fatalf("upgrade: legacy %v, changed %v", up.Legacy(), res.Changed)
	}
	if err := up.Save(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if l, err := Load(ctx, dir, Options{}); err != nil || l.Legacy() {
		t.Fatalf("reload after the upgrade: %v, legacy %v", err, l != nil && l.Legacy())
	}
	s.publish(up, data)
	c.now = testNow.Add(2 * time.Hour)
	u, err := c.refresh()
	if err != nil {
		t.Fatalf("client following the upgrade: %v", err)
	}
	downloadAll(t, u, data)
}

func containsAll(have []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}
