package tufrepo

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRotateKeys(t *testing.T) {
	ctx := context.Background()
	r, kr, targets, data := updatedRepo(t, 120)
	s := newSite()
	srv := s.serve(t)
	s.publish(r, data)
	root1 := r.rootJSON(1)
	// A client that followed every step, with a cache.
	steady := newClient(t, srv, root1, testNow)
	if _, err := steady.refresh(); err != nil {
		t.Fatal(err)
	}
	next := 10 // pool keys 10… are new keys
	for _, role := range []string{RoleRoot, RoleTimestamp, RoleSnapshot, RoleTargets, RoleBins, RoleRoot} {
		t.Run(role, func(t *testing.T) {
			nk := poolKey(t, next)
			next++
			rootBefore := r.rootVersion()
			before := r.result(nil).Versions
			if err := r.withKeys(kr, testNow).RotateKey(role, nk); err != nil {
				t.Fatal(err)
			}
			kr = kr.With(role, nk) // the new key replaces the old file
			if got := r.KeyIDs(role); !slices.Equal(got, []string{nk.ID()}) {
				t.Errorf("%s keys %v, want only the new key", role, got)
			}
			wantRoot := rootBefore + 1
			if role == RoleBins {
				wantRoot = rootBefore
			}
			if r.rootVersion() != wantRoot {
				t.Errorf("root version %d, want %d", r.rootVersion(), wantRoot)
			}
			after := r.result(nil).Versions
			for _, resigned := range map[string][]string{
				RoleTimestamp: {RoleTimestamp},
				RoleSnapshot:  {RoleSnapshot, RoleTimestamp},
				RoleTargets:   {RoleTargets, RoleSnapshot, RoleTimestamp},
				RoleBins:      {RoleTargets, RoleSnapshot, RoleTimestamp, r.binFor(targets[0].Path)},
			}[role] {
				if after[resigned] != before[resigned]+1 {
					t.Errorf("%s version %d, want %d", resigned, after[resigned], before[resigned]+1)
				}
			}
			// Reload from disk, publish, and check both a client holding only
			// 1.root.json and the one with a cache.
			dir := t.TempDir()
			if err := r.Save(ctx, dir); err != nil {
				t.Fatal(err)
			}
			loaded, err := Load(ctx, dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			s.publish(loaded, data)
			for name, c := range map[string]*tufClient{"new client": newClient(t, srv, root1, testNow), "steady client": steady} {
				up, err := c.refresh()
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if got := up.GetTrustedMetadataSet().Root.Signed.Version; got != r.rootVersion() {
					t.Errorf("%s trusts root version %d, want %d", name, got, r.rootVersion())
				}
				downloadAll(t, up, data)
			}
		})
	}
}

func TestRotateRootThreshold(t *testing.T) {
	ctx := context.Background()
	kr := newKeyring(t, 3)
	r, err := Init(Options{Keys: kr, Config: Config{RootThreshold: 2}, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	targets, data := makeTargets(10, "v1")
	if _, err := r.with(kr, Config{}, testNow).Update(ctx, targets); err != nil {
		t.Fatal(err)
	}
	roots := kr.Keys(RoleRoot)
	if err := r.withKeys(kr, testNow).RotateKey(RoleRoot, poolKey(t, 12)); err == nil {
		t.Error("RotateKey on a role with 3 keys: no error")
	}
	// Replace root key 0 by a new key, with only keys 1 and 2 at hand:
	// the old threshold (2 of the old keys) and the new one (2 of the new
	// keys) are both met.
	nk := poolKey(t, 12)
	at := NewKeyring().With(RoleRoot, roots[1], roots[2])
	if err := r.withKeys(at, testNow).ReplaceKeys(RoleRoot, []string{roots[0].ID()}, []*Key{nk}, 0); err != nil {
		t.Fatal(err)
	}
	// With one old key only, the old threshold is not met.
	one := NewKeyring().With(RoleRoot, roots[1], poolKey(t, 13))
	err = r.withKeys(one, testNow).ReplaceKeys(RoleRoot, []string{roots[2].ID()}, []*Key{poolKey(t, 13)}, 0)
	var wk *WrongKeyError
	if !errors.As(err, &wk) {
		t.Errorf("ReplaceKeys below threshold: %v, want WrongKeyError", err)
	}
	if r.rootVersion() != 2 {
		t.Errorf("root version %d after a failed rotation, want 2", r.rootVersion())
	}
	s := newSite()
	s.publish(r, data)
	up, err := newClient(t, s.serve(t), r.rootJSON(1), testNow).refresh()
	if err != nil {
		t.Fatal(err)
	}
	downloadAll(t, up, data)
	if th := up.GetTrustedMetadataSet().Root.Signed.Roles[RoleRoot].Threshold; th != 2 {
		t.Errorf("threshold %d, want 2", th)
	}
}

func TestRotateNeedsKeys(t *testing.T) {
	kr := newKeyring(t, 1)
	r, err := Init(Options{Keys: kr, Config: Config{}, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	before := filesOf(t, r)
	// Rotating timestamp without the root key.
	err = r.withKeys(NewKeyring().With(RoleTimestamp, kr.Keys(RoleTimestamp)...), testNow).RotateKey(RoleTimestamp, poolKey(t, 10))
	var mk *MissingKeyError
	if !errors.As(err, &mk) || mk.Role != RoleRoot {
		t.Errorf("got %v, want MissingKeyError for root", err)
	}
	// Rotating snapshot without the timestamp key: root would change but
	// timestamp cannot follow, so nothing changes.
	err = r.withKeys(kr.With(RoleTimestamp), testNow.Add(time.Hour)).RotateKey(RoleSnapshot, poolKey(t, 10))
	if !errors.As(err, &mk) || mk.Role != RoleTimestamp {
		t.Errorf("got %v, want MissingKeyError for timestamp", err)
	}
	if len(filesOf(t, r)) != len(before) || r.rootVersion() != 1 {
		t.Errorf("failed rotation changed the repository")
	}
	if err := r.withKeys(kr, testNow).RotateKey("nobody", poolKey(t, 10)); err == nil {
		t.Error("unknown role: no error")
	}
}

func TestRenewRoot(t *testing.T) {
	ctx := context.Background()
	kr := newKeyring(t, 1)
	r, err := Init(Options{Keys: kr, Config: Config{RootExpiry: 10 * 24 * time.Hour}, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	later := testNow.Add(6 * 24 * time.Hour)
	res, err := r.with(kr, Config{RootExpiry: 10 * 24 * time.Hour}, later).Update(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 {
		t.Errorf("warnings %q, want one about root", res.Warnings)
	}
	if err := r.with(kr, Config{}, later).RenewRoot(); err != nil {
		t.Fatal(err)
	}
	if got, want := r.root().Signed.Expires, later.UTC().Truncate(time.Second).Add(DefaultRootExpiry); !got.Equal(want) {
		t.Errorf("root expires %v, want %v", got, want)
	}
	s := newSite()
	s.publish(r, nil)
	if _, err := newClient(t, s.serve(t), r.rootJSON(1), later).refresh(); err != nil {
		t.Fatal(err)
	}
}

func TestRefreshAndExpiring(t *testing.T) {
	r, kr, _, data := updatedRepo(t, 40)
	if got := r.at(Config{}, testNow).Expiring(); len(got) != 0 {
		t.Errorf("fresh repository: expiring %v", got)
	}
	later := testNow.Add(5 * 24 * time.Hour)
	if diff := cmp.Diff([]string{RoleSnapshot, RoleTimestamp}, r.at(Config{}, later).Expiring()); diff != "" {
		t.Errorf("expiring after 5 days (-want +got):\n%s", diff)
	}
	// Without the snapshot key the refresh fails and changes nothing.
	before := filesOf(t, r)
	if _, err := r.with(kr.With(RoleSnapshot), Config{}, later).Refresh(); err == nil {
		t.Error("Refresh without the snapshot key: no error")
	}
	if diff := cmp.Diff(before, filesOf(t, r)); diff != "" {
		t.Error("failed Refresh changed the repository")
	}
	res, err := r.with(NewKeyring().With(RoleSnapshot, kr.Keys(RoleSnapshot)...).With(RoleTimestamp, kr.Keys(RoleTimestamp)...), Config{}, later).Refresh()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{RoleSnapshot, RoleTimestamp}, res.Changed); diff != "" {
		t.Errorf("refreshed (-want +got):\n%s", diff)
	}
	// A week after the build, with the daily timestamp: the snapshot of
	// the build would have expired; the refreshed one has not.
	week := testNow.Add(7*24*time.Hour + 12*time.Hour)
	if err := r.with(kr, Config{}, week.Add(-time.Hour)).Timestamp(); err != nil {
		t.Fatal(err)
	}
	s := newSite()
	s.publish(r, data)
	up, err := newClient(t, s.serve(t), r.rootJSON(1), week).refresh()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	downloadAll(t, up, data)
}
