package repo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/tufrepo"
	"github.com/google/go-cmp/cmp"
)

func TestTimestampResign(t *testing.T) {
	r := newRepo(t)
	addGood(t, r, "tc-stats")
	build(t, r, BuildOptions{})
	out := filepath.Join(r.Dir, layout.PublicDir)
	before := tree(t, out)
	if _, err := r.Timestamp(context.Background(), TimestampOptions{Now: t0.Add(20 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	after := tree(t, out)
	for p, h := range before {
		if p == "metadata/timestamp.json" {
			if after[p] == h {
				t.Error("timestamp.json not re-signed")
			}
			continue
		}
		if after[p] != h {
			t.Errorf("%s changed", p)
		}
	}
	if len(after) != len(before) {
		t.Errorf("files added or removed: %d → %d", len(before), len(after))
	}
	var ts struct {
		Signed struct {
			Version int64     `json:"version"`
			Expires time.Time `json:"expires"`
		} `json:"signed"`
	}
	readJSON(t, filepath.Join(out, "metadata", "timestamp.json"), &ts)
	if ts.Signed.Version < 2 || !ts.Signed.Expires.After(t0.Add(24*time.Hour)) {
		t.Errorf("timestamp version %d expires %v", ts.Signed.Version, ts.Signed.Expires)
	}
	pub, _ := os.ReadFile(filepath.Join(out, "metadata", "timestamp.json"))
	rec, _ := os.ReadFile(filepath.Join(r.Dir, layout.RepoMetaDir, "timestamp.json"))
	if !bytes.Equal(pub, rec) {
		t.Error("published and recorded timestamp.json differ")
	}
	// A client a day later still refreshes.
	root, _ := os.ReadFile(filepath.Join(out, "metadata", "1.root.json"))
	c := newTUFClient(t, serve(t, out).URL, root, t0.Add(30*time.Hour))
	if _, err := c.refresh(); err != nil {
		t.Errorf("refresh after re-sign: %v", err)
	}
}

func TestYank(t *testing.T) {
	r := newRepo(t)
	addGood(t, r, "ratelimiting-1.0.0", "ratelimiting-1.1.0")
	ctx := context.Background()
	if err := r.Yank(ctx, "ratelimiting", "1.1.0", "CVE-2026-0001", false); err != nil {
		t.Fatal(err)
	}
	if err := r.Yank(ctx, "ratelimiting", "3.0.0", "x", false); err == nil {
		t.Error("yanking a missing version succeeded")
	} else if !strings.Contains(err.Error(), "versions of ratelimiting: 1.0.0, 1.1.0") {
		t.Errorf("yanking a missing version: %v, want the versions that exist", err)
	}
	build(t, r, BuildOptions{})
	out := filepath.Join(r.Dir, layout.PublicDir)
	var p index.Package
	readJSON(t, findTarget(t, out, "index/ratelimiting.json"), &p)
	v := p.Lookup("1.1.0")
	if v == nil || v.Yanked == nil || v.Yanked.Reason != "CVE-2026-0001" {
		t.Fatalf("1.1.0 not marked yanked: %+v", v)
	}
	if _, err := os.Stat(filepath.Join(out, "l3afd", "ratelimiting", "1.1.0")); err != nil {
		t.Error("a yanked version must stay downloadable")
	}
	old := p.Lookup("1.0.0").Artifacts[0]
	latest, _ := os.ReadFile(filepath.Join(out, "l3afd", "ratelimiting", "latest", old.Platform, filepath.Base(old.Path)))
	h := sha256.Sum256(latest)
	if hex.EncodeToString(h[:]) != old.SHA256 {
		t.Error("latest is not 1.0.0 after yanking 1.1.0")
	}
	if err := r.Yank(ctx, "ratelimiting", "1.1.0", "", true); err != nil {
		t.Fatal(err)
	}
	build(t, r, BuildOptions{})
	var p2 index.Package
	readJSON(t, findTarget(t, out, "index/ratelimiting.json"), &p2)
	if p2.Lookup("1.1.0").Yanked != nil {
		t.Error("undo did not un-yank")
	}
}

func TestRootRotation(t *testing.T) {
	r := newRepo(t)
	addGood(t, r, "tc-stats")
	build(t, r, BuildOptions{})
	out := filepath.Join(r.Dir, layout.PublicDir)
	root1, _ := os.ReadFile(filepath.Join(out, "metadata", "1.root.json"))
	srv := serve(t, out)
	early := newTUFClient(t, srv.URL, root1, t0.Add(time.Hour))
	if _, err := early.refresh(); err != nil {
		t.Fatal(err)
	}
	oldKey, _ := os.ReadFile(filepath.Join(r.Dir, layout.KeysDir, "root.pem"))
	for _, role := range []string{"root", "timestamp"} {
		if err := r.RotateKey(context.Background(), role, RotateOptions{Now: t0.Add(time.Minute)}); err != nil {
			t.Fatalf("rotate %s: %v", role, err)
		}
	}
	newKey, _ := os.ReadFile(filepath.Join(r.Dir, layout.KeysDir, "root.pem"))
	if bytes.Equal(oldKey, newKey) {
		t.Error("root.pem not replaced")
	}
	olds, _ := filepath.Glob(filepath.Join(r.Dir, layout.KeysDir, "root.pem.old-*"))
	if len(olds) != 1 {
		t.Errorf("old root key kept as %v", olds)
	}
	addGood(t, r, "xdp-root")
	build(t, r, BuildOptions{Now: t0.Add(time.Minute)})
	if _, err := os.Stat(filepath.Join(out, "metadata", "3.root.json")); err != nil {
		t.Errorf("rotations did not publish 3.root.json: %v", err)
	}
	for name, c := range map[string]*tufClient{"fresh": newTUFClient(t, srv.URL, root1, t0.Add(time.Hour)), "early": early} {
		up, err := c.refresh()
		if err != nil {
			t.Fatalf("%s client holding 1.root.json: %v", name, err)
		}
		if v := up.GetTrustedMetadataSet().Root.Signed.Version; v != 3 {
			t.Errorf("%s client trusts root %d, want 3", name, v)
		}
		c.download(up, "index/xdp-root.json")
	}
}

func TestNoPrivateKeyInOutput(t *testing.T) {
	r := newRepo(t)
	addGood(t, r, "tc-stats")
	build(t, r, BuildOptions{})
	var secrets [][]byte
	keys, _ := filepath.Glob(filepath.Join(r.Dir, layout.KeysDir, "*.pem"))
	for _, k := range keys {
		pem, _ := os.ReadFile(k)
		key, err := tufrepo.LoadKeyFile(k)
		if err != nil {
			t.Fatal(err)
		}
		seed := key.Private.Seed()
		secrets = append(secrets, pem, seed, []byte(hex.EncodeToString(seed)), key.Private)
		if fi, _ := os.Stat(k); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", k, fi.Mode().Perm())
		}
	}
	if len(keys) != 5 {
		t.Fatalf("%d key files", len(keys))
	}
	out := filepath.Join(r.Dir, layout.PublicDir)
	for p := range tree(t, out) {
		data, _ := os.ReadFile(filepath.Join(out, p))
		if bytes.Contains(data, []byte("PRIVATE KEY")) {
			t.Errorf("%s holds a PEM private key", p)
		}
		for _, s := range secrets {
			if bytes.Contains(data, s) {
				t.Errorf("%s holds private key bytes", p)
			}
		}
	}
	if _, err := r.outDir(r.Dir); err == nil {
		t.Error("building into the repository directory itself was allowed")
	}
	if _, err := r.outDir(filepath.Join(r.Dir, layout.KeysDir, "x")); err == nil {
		t.Error("building into keys/ was allowed")
	}
}

func TestInit(t *testing.T) {
	r := newRepo(t)
	fi, err := os.Stat(filepath.Join(r.Dir, layout.KeysDir))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("keys dir: %v %v", fi.Mode(), err)
	}
	for _, p := range []string{layout.PackagesDir, "metadata/1.root.json", layout.ConfigFile} {
		if _, err := os.Stat(filepath.Join(r.Dir, p)); err != nil {
			t.Error(err)
		}
	}
	if r.Config.Name != "test-repo" || r.Config.Expiry.Timestamp != "1d" {
		t.Errorf("config %+v", r.Config)
	}
	if gi, err := os.ReadFile(filepath.Join(r.Dir, layout.GitIgnore)); err != nil || !strings.Contains(string(gi), "/keys/") || strings.Contains(string(gi), "metadata") {
		t.Errorf(".gitignore: %q, %v; want keys/ (and not metadata/) ignored", gi, err)
	}
	err = Init(context.Background(), r.Dir, InitOptions{})
	var ee *ExistsError
	if !errors.As(err, &ee) {
		t.Errorf("second init: %v, want an ExistsError", err)
	}
	// Threshold 2 of 3 root keys.
	dir := filepath.Join(t.TempDir(), "r")
	if err := Init(context.Background(), dir, InitOptions{RootKeys: 3, RootThreshold: 2, Now: t0}); err != nil {
		t.Fatal(err)
	}
	var root struct {
		Signed struct {
			Roles map[string]struct {
				KeyIDs    []string `json:"keyids"`
				Threshold int      `json:"threshold"`
			} `json:"roles"`
		} `json:"signed"`
		Signatures []json.RawMessage `json:"signatures"`
	}
	readJSON(t, filepath.Join(dir, layout.RepoMetaDir, "1.root.json"), &root)
	if rr := root.Signed.Roles["root"]; len(rr.KeyIDs) != 3 || rr.Threshold != 2 {
		t.Errorf("root role %+v", rr)
	}
	if err := Init(context.Background(), filepath.Join(t.TempDir(), "x"), InitOptions{RootKeys: 1, RootThreshold: 2}); err == nil {
		t.Error("threshold above the number of keys accepted")
	}
}

func TestConfigErrors(t *testing.T) {
	r := newRepo(t)
	for _, tc := range []struct{ name, text, want string }{
		{"unknown key", "nmae = \"x\"\n", "unknown key"},
		{"bad expiry", "[expiry]\ntimestamp = \"soon\"\n", "expiry.timestamp"},
		{"bad bins", "bins = 3\n", "power of two"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.WriteFile(filepath.Join(r.Dir, layout.ConfigFile), []byte(tc.text), 0o644)
			_, err := Open(context.Background(), r.Dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// findTarget returns the published (hash-prefixed) file of target tp.

// TestRotateKeyUsesConfiguredExpiry: the root written by a rotation
// expires after the period of ebpfrepo.toml, not tufrepo's default.
func TestRotateKeyUsesConfiguredExpiry(t *testing.T) {
	r := newRepo(t)
	r.Config.Expiry.Root = "30d"
	t.Setenv("SOURCE_DATE_EPOCH", strconv.FormatInt(t0.Unix(), 10))
	if err := r.RotateKey(context.Background(), "root", RotateOptions{Now: t0}); err != nil {
		t.Fatal(err)
	}
	var root struct {
		Signed struct {
			Expires time.Time `json:"expires"`
		} `json:"signed"`
	}
	readJSON(t, filepath.Join(r.Dir, layout.RepoMetaDir, "2.root.json"), &root)
	if want := t0.AddDate(0, 0, 30); !root.Signed.Expires.Equal(want) {
		t.Errorf("2.root.json expires %v, want %v (30d after the rotation)", root.Signed.Expires, want)
	}
}

// TestTimestampRenewsOnlineRoles: timestamp re-signs timestamp.json
// every time, snapshot and bins once they are in the second half of
// their validity (and publishes the new files before timestamp.json);
// an offline role it cannot renew is a warning until it would be
// published expired, then an error that writes nothing.
func TestTimestampRenewsOnlineRoles(t *testing.T) {
	r := newRepo(t)
	addGood(t, r, "tc-stats")
	build(t, r, BuildOptions{})
	out := filepath.Join(r.Dir, layout.PublicDir)
	targetsKey := filepath.Join(r.Dir, layout.KeysDir, "targets.pem")
	for _, tc := range []struct {
		name     string
		after    time.Duration
		offline  bool     // the targets key is not at hand
		resigned []string // roles re-signed
		warn     []string // first word of each warning
		err      string
	}{
		{"day", 20 * time.Hour, false, []string{"timestamp"}, nil, ""},
		{"snapshot due", 5 * 24 * time.Hour, false, []string{"snapshot", "timestamp"}, nil, ""},
		{"targets due, key offline", 50 * 24 * time.Hour, true, []string{"bins-0", "bins-1", "unclaimed", "snapshot", "timestamp"}, []string{"targets"}, ""},
		{"targets expired, key offline", 91 * 24 * time.Hour, true, nil, nil, "targets expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.offline {
				os.Rename(targetsKey, targetsKey+".away")
				defer os.Rename(targetsKey+".away", targetsKey)
			}
			var warned []string
			warn := func(msg string) { warned = append(warned, strings.Fields(msg)[0]) }
			before := tree(t, out)
			res, err := r.Timestamp(context.Background(), TimestampOptions{Now: t0.Add(tc.after), Warn: warn})
			if tc.err != "" {
				var ee *tufrepo.ExpiredError
				if !errors.As(err, &ee) || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "targets key") {
					t.Fatalf("err = %v, want an ExpiredError with %q and how to renew it", err, tc.err)
				}
				if diff := cmp.Diff(before, tree(t, out)); diff != "" {
					t.Errorf("a refused timestamp changed the output:\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := slices.Clone(res.Resigned)
			slices.Sort(got)
			want := slices.Clone(tc.resigned)
			slices.Sort(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("re-signed (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.warn, warned); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			if n := len(res.Published); n == 0 || res.Published[n-1] != layout.Timestamp || n != len(tc.resigned) {
				t.Errorf("published %v: want one file per role re-signed, timestamp.json last", res.Published)
			}
			// What a client sees at that time verifies.
			root1, _ := os.ReadFile(filepath.Join(out, "metadata", "1.root.json"))
			if _, err := newTUFClient(t, serve(t, out).URL, root1, t0.Add(tc.after+time.Minute)).refresh(); err != nil {
				t.Errorf("client after timestamp: %v", err)
			}
		})
	}
}

// TestSourceDateEpochDoesNotPinExpiry: a build under an old
// SOURCE_DATE_EPOCH takes its content dates from it, its signatures'
// expiry from the clock: nothing it publishes is expired.
func TestSourceDateEpochDoesNotPinExpiry(t *testing.T) {
	r := newRepo(t)
	addGood(t, r, "tc-stats")
	old := time.Now().Add(-335 * 24 * time.Hour)
	t.Setenv("SOURCE_DATE_EPOCH", strconv.FormatInt(old.Unix(), 10))
	if _, err := r.Build(context.Background(), BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(r.Dir, layout.PublicDir)
	for _, name := range []string{"timestamp.json"} {
		var md struct {
			Signed struct {
				Expires time.Time `json:"expires"`
			} `json:"signed"`
		}
		readJSON(t, filepath.Join(out, "metadata", name), &md)
		if !md.Signed.Expires.After(time.Now()) {
			t.Errorf("%s expires %v: pinned to SOURCE_DATE_EPOCH", name, md.Signed.Expires)
		}
	}
	if _, err := r.Timestamp(context.Background(), TimestampOptions{}); err != nil {
		t.Errorf("timestamp under an old SOURCE_DATE_EPOCH: %v", err)
	}
}

// TestRotateWithoutRootKey: rotating with the root key offline says so,
// the same way every time, and changes nothing.
func TestRotateWithoutRootKey(t *testing.T) {
	r := newRepo(t)
	kd := filepath.Join(r.Dir, layout.KeysDir)
	os.Rename(filepath.Join(kd, "root.pem"), filepath.Join(t.TempDir(), "root.pem"))
	before := tree(t, r.Dir)
	var msgs []string
	for range 2 {
		err := r.RotateKey(context.Background(), "root", RotateOptions{Now: t0})
		if err == nil || !strings.Contains(err.Error(), "no private key for it is at hand") || strings.Count(err.Error(), "tufrepo:") > 1 {
			t.Fatalf("err = %v", err)
		}
		msgs = append(msgs, err.Error())
	}
	if msgs[0] != msgs[1] {
		t.Errorf("the message changes between runs:\n%s\n%s", msgs[0], msgs[1])
	}
	after := tree(t, r.Dir)
	delete(after, ".lock") // the lock file every command takes
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("a refused rotation changed the repository:\n%s", diff)
	}
}
