package tufrepo

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/theupdateframework/go-tuf/v2/metadata/updater"
)

// downloadAll checks that the client can get and verify every target.
func downloadAll(t *testing.T, up *updater.Updater, data map[string][]byte) {
	t.Helper()
	dir := t.TempDir()
	i := 0
	for p, want := range data {
		tf, err := up.GetTargetInfo(p)
		if err != nil {
			t.Fatalf("GetTargetInfo(%s): %v", p, err)
		}
		_, got, err := up.DownloadTarget(tf, filepath.Join(dir, strings.ReplaceAll(p, "/", "_")), "")
		if err != nil {
			t.Fatalf("DownloadTarget(%s): %v", p, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("target %s: got %q, want %q", p, got, want)
		}
		i++
	}
}

func TestEndToEnd(t *testing.T) {
	ctx := context.Background()
	kr := newKeyring(t, 1)
	r, err := Init(Options{Keys: kr, Config: Config{}, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	s := newSite()
	srv := s.serve(t)
	root1 := r.rootJSON(1)

	t.Run("empty repository refreshes", func(t *testing.T) {
		s.publish(r, nil)
		if _, err := newClient(t, srv, root1, testNow).refresh(); err != nil {
			t.Fatal(err)
		}
	})

	targets, data := makeTargets(300, "v1")
	res, err := r.with(kr, Config{}, testNow).Update(ctx, targets)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.Info().BinBits, BinBitsFor(300); got != want {
		t.Errorf("bin bits %d, want %d", got, want)
	}
	// More bins: unclaimed (which holds the bin delegation) is re-signed;
	// targets (offline) is not.
	if !slices.Contains(res.Changed, RoleUnclaimed) || !slices.Contains(res.Changed, RoleSnapshot) || slices.Contains(res.Changed, RoleTargets) {
		t.Errorf("changed %v: want unclaimed and snapshot, not targets", res.Changed)
	}

	dir := t.TempDir()
	if err := r.Save(ctx, dir); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(filesOf(t, r), filesOf(t, loaded)); diff != "" {
		t.Fatalf("Load(Save) differs (-saved +loaded):\n%s", diff)
	}
	s.publish(loaded, data)
	up, err := newClient(t, srv, root1, testNow).refresh()
	if err != nil {
		t.Fatal(err)
	}
	downloadAll(t, up, data)

	t.Run("published names", func(t *testing.T) {
		files := filesOf(t, loaded)
		want := []string{"metadata/1.root.json", "metadata/1.targets.json", fmt.Sprintf("metadata/%d.unclaimed.json", res.Versions[RoleUnclaimed]),
			"metadata/2.snapshot.json", "metadata/timestamp.json"}
		for _, n := range loaded.succinct().GetRoles() {
			want = append(want, fmt.Sprintf("metadata/%d.%s.json", res.Versions[n], n))
		}
		var got []string
		for k := range files {
			got = append(got, k)
		}
		slices.Sort(got)
		slices.Sort(want)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("files (-want +got):\n%s", diff)
		}
	})
}

func TestIncrementalUpdate(t *testing.T) {
	ctx := context.Background()
	r, kr, targets, data := updatedRepo(t, 500)
	s := newSite()
	srv := s.serve(t)
	s.publish(r, data)
	c := newClient(t, srv, r.rootJSON(1), testNow)
	if _, err := c.refresh(); err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name string
		edit func([]Target, map[string][]byte) []Target
	}{
		{"change one target", func(ts []Target, d map[string][]byte) []Target {
			d[ts[7].Path] = []byte("new bytes")
			ts[7] = targetOf(ts[7].Path, d[ts[7].Path])
			return ts
		}},
		{"add one target", func(ts []Target, d map[string][]byte) []Target {
			p := "newpkg/0.1.0/noble/l3af_newpkg.tar.gz"
			d[p] = []byte("a new package")
			return append(ts, targetOf(p, d[p]))
		}},
		{"remove one target", func(ts []Target, d map[string][]byte) []Target {
			delete(d, ts[3].Path)
			return slices.Delete(ts, 3, 4)
		}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := filesOf(t, r)
			prev := r.result(nil).Versions
			targets = st.edit(slices.Clone(targets), data)
			later := testNow.Add(time.Hour)
			res, err := r.with(kr, Config{}, later).Update(ctx, targets)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Changed) != 3 || !strings.HasPrefix(res.Changed[0], "bins-") || res.Changed[1] != RoleSnapshot || res.Changed[2] != RoleTimestamp {
				t.Fatalf("changed %v, want one bin, snapshot, timestamp", res.Changed)
			}
			for role, v := range res.Versions {
				want := prev[role]
				if slices.Contains(res.Changed, role) {
					want++
				}
				if v != want {
					t.Errorf("%s version %d, want %d", role, v, want)
				}
			}
			after := filesOf(t, r)
			var rewritten []string
			for k, v := range after {
				if !bytes.Equal(before[k], v) {
					rewritten = append(rewritten, k)
				}
			}
			if len(rewritten) != 3 {
				t.Errorf("files rewritten: %v, want 3", rewritten)
			}
			s.publish(r, data)
			c.now = later
			up, err := c.refresh()
			if err != nil {
				t.Fatal(err)
			}
			downloadAll(t, up, data)
		})
	}
}

func TestNoChangeIsByteIdentical(t *testing.T) {
	ctx := context.Background()
	r, _, targets, _ := updatedRepo(t, 200)
	dir := t.TempDir()
	if err := r.Save(ctx, dir); err != nil {
		t.Fatal(err)
	}
	before := filesOf(t, r)
	for _, later := range []time.Duration{0, time.Hour, 11 * time.Hour} {
		r2, err := Load(ctx, dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		shuffled := slices.Clone(targets)
		slices.Reverse(shuffled)
		res, err := r2.with(NewKeyring(), Config{}, testNow.Add(later)).Update(ctx, shuffled)
		if err != nil {
			t.Fatalf("+%v: %v (no key should be needed when nothing changes)", later, err)
		}
		if len(res.Changed) != 0 {
			t.Errorf("+%v: changed %v, want nothing", later, res.Changed)
		}
		if diff := cmp.Diff(before, filesOf(t, r2)); diff != "" {
			t.Errorf("+%v: files differ:\n%s", later, diff)
		}
	}
}

func TestStaleRolesAreResigned(t *testing.T) {
	ctx := context.Background()
	kr := newKeyring(t, 1)
	targets, _ := makeTargets(100, "v1")
	tests := []struct {
		after time.Duration
		want  []string // roles re-signed (bins counted as "bins")
	}{
		{11 * time.Hour, nil},
		{13 * time.Hour, []string{RoleTimestamp}},
		{4 * 24 * time.Hour, []string{RoleSnapshot, RoleTimestamp}},
		{46 * 24 * time.Hour, []string{RoleTargets, RoleUnclaimed, RoleBins, RoleSnapshot, RoleTimestamp}},
	}
	for _, tt := range tests {
		t.Run(tt.after.String(), func(t *testing.T) {
			r, err := Init(Options{Keys: kr, Config: Config{}, Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.with(kr, Config{}, testNow).Update(ctx, targets); err != nil {
				t.Fatal(err)
			}
			res, err := r.with(kr, Config{}, testNow.Add(tt.after)).Update(ctx, targets)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range res.Changed {
				if strings.HasPrefix(c, "bins-") {
					c = RoleBins
				}
				if !slices.Contains(got, c) {
					got = append(got, c)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("re-signed (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBinBitsChangeKeepsClientsWorking(t *testing.T) {
	ctx := context.Background()
	kr := newKeyring(t, 1)
	r, err := Init(Options{Keys: kr, Config: Config{}, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	s := newSite()
	srv := s.serve(t)
	c := newClient(t, srv, r.rootJSON(1), testNow)
	targets, data := makeTargets(150, "v1")
	last := r.result(nil).Versions
	for i, bits := range []int{0, 2, 5, 3, 0, 9} {
		res, err := r.with(kr, Config{BinBits: bits}, testNow.Add(time.Duration(i)*time.Minute)).Update(ctx, targets)
		if err != nil {
			t.Fatalf("bits %d: %v", bits, err)
		}
		for role, v := range res.Versions {
			if old, ok := last[role]; ok && v < old {
				t.Errorf("bits %d: %s version went down from %d to %d", bits, role, old, v)
			}
		}
		for role, v := range last {
			if m := r.snapshot.md.Signed.Meta[role+".json"]; strings.HasPrefix(role, "bins-") && (m == nil || m.Version < v) {
				t.Errorf("bits %d: snapshot dropped or rolled back %s", bits, role)
			}
		}
		for role, v := range res.Versions {
			last[role] = max(last[role], v)
		}
		s.publish(r, data)
		up, err := c.refresh()
		if err != nil {
			t.Fatalf("bits %d: refresh: %v", bits, err)
		}
		downloadAll(t, up, data)
	}
	if got := r.Info().BinBits; got != 9 {
		t.Errorf("bin bits %d, want 9", got)
	}
}

func TestTimestampOnly(t *testing.T) {
	r, kr, _, data := updatedRepo(t, 50)
	before := filesOf(t, r)
	v := r.timestamp.md.Signed.Version
	later := testNow.Add(20 * time.Hour)
	// Only the timestamp key is needed.
	if err := r.with(NewKeyring().With(RoleTimestamp, kr.Keys(RoleTimestamp)...), Config{}, later).Timestamp(); err != nil {
		t.Fatal(err)
	}
	after := filesOf(t, r)
	for k := range after {
		if k != "metadata/timestamp.json" && !bytes.Equal(before[k], after[k]) {
			t.Errorf("%s changed", k)
		}
	}
	if bytes.Equal(before["metadata/timestamp.json"], after["metadata/timestamp.json"]) {
		t.Error("timestamp.json unchanged")
	}
	ts := r.timestamp.md.Signed
	if ts.Version != v+1 {
		t.Errorf("timestamp version %d, want %d", ts.Version, v+1)
	}
	if want := later.UTC().Truncate(time.Second).Add(24 * time.Hour); !ts.Expires.Equal(want) {
		t.Errorf("expires %v, want %v", ts.Expires, want)
	}
	s := newSite()
	s.publish(r, data)
	up, err := newClient(t, s.serve(t), r.rootJSON(1), later.Add(12*time.Hour)).refresh()
	if err != nil {
		t.Fatal(err)
	}
	downloadAll(t, up, data)

	err = r.with(NewKeyring(), Config{}, later).Timestamp()
	var mk *MissingKeyError
	if !errors.As(err, &mk) || mk.Role != RoleTimestamp || mk.Env != "EBPFREPO_TIMESTAMP_KEY" {
		t.Errorf("Timestamp without key: %v, want MissingKeyError for timestamp", err)
	}
}

func TestExpiryTruncated(t *testing.T) {
	kr := newKeyring(t, 1)
	r, err := Init(Options{Keys: kr, Config: Config{}, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC) // testNow in UTC, whole seconds
	want := map[string]time.Time{
		RoleRoot:      base.Add(DefaultRootExpiry),
		RoleTargets:   base.Add(DefaultTargetsExpiry),
		RoleBins:      base.Add(DefaultBinsExpiry),
		RoleUnclaimed: base.Add(DefaultBinsExpiry),
		RoleSnapshot:  base.Add(DefaultSnapshotExpiry),
		RoleTimestamp: base.Add(DefaultTimestampExpiry),
	}
	for _, ri := range r.Info().Roles {
		if !ri.Expires.Equal(want[ri.Name]) || ri.Expires.Location() != time.UTC {
			t.Errorf("%s expires %v, want %v UTC", ri.Name, ri.Expires, want[ri.Name])
		}
	}
	expires := regexp.MustCompile(`"expires":"([^"]*)"`)
	for name, b := range filesOf(t, r) {
		m := expires.FindAllSubmatch(b, -1)
		if len(m) != 1 {
			t.Errorf("%s: %d expires fields", name, len(m))
			continue
		}
		if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT11:00:00Z$`).Match(m[0][1]) {
			t.Errorf("%s: expires %q, want whole seconds UTC from now", name, m[0][1])
		}
	}
}

func TestNoPrivateKeyInFiles(t *testing.T) {
	kr := newKeyring(t, 2)
	r, err := Init(Options{Keys: kr, Config: Config{}, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range KeyRoles {
		for _, k := range kr.Keys(role) {
			seed := k.Private.Seed()
			pem, _ := k.PEM()
			for name, b := range filesOf(t, r) {
				for _, secret := range [][]byte{seed, []byte(hex.EncodeToString(seed)), []byte(base64.StdEncoding.EncodeToString(seed)), pem[28:60]} {
					if bytes.Contains(b, secret) {
						t.Errorf("%s holds private key material of %s", name, role)
					}
				}
			}
		}
	}
}

func TestUpdateRejectsBadTargets(t *testing.T) {
	kr := newKeyring(t, 1)
	r, err := Init(Options{Keys: kr, Config: Config{}, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	good := targetOf("a/b", []byte("x"))
	tests := []struct {
		name  string
		t     Target
		field string
	}{
		{"empty", Target{SHA256: good.SHA256}, "path"},
		{"absolute", Target{Path: "/etc/passwd", SHA256: good.SHA256}, "path"},
		{"dotdot", Target{Path: "a/../b", SHA256: good.SHA256}, "path"},
		{"backslash", Target{Path: `a\b`, SHA256: good.SHA256}, "path"},
		{"control", Target{Path: "a\nb", SHA256: good.SHA256}, "path"},
		{"negative length", Target{Path: "a", Length: -1, SHA256: good.SHA256}, "length"},
		{"short hash", Target{Path: "a", SHA256: "abcd"}, "sha256"},
		{"upper hash", Target{Path: "a", SHA256: strings.ToUpper(good.SHA256)}, "sha256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.with(kr, Config{}, testNow).Update(context.Background(), []Target{tt.t})
			var te *TargetError
			if !errors.As(err, &te) || te.Field != tt.field {
				t.Errorf("got %v, want TargetError on %s", err, tt.field)
			}
		})
	}
	_, err = r.with(kr, Config{}, testNow).Update(context.Background(), []Target{good, good})
	if err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate: %v", err)
	}
}

// FuzzLoad replaces the timestamp (and so what Load follows) by fuzz
// data: Load must fail cleanly, never panic.
// TestSaveIsCommittedByTimestamp: files written before timestamp.json
// (an interrupted Save) leave the previous state loadable, and a Save
// with no change rewrites nothing.
