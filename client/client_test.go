package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/google/go-cmp/cmp"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

func TestResolveFetch(t *testing.T) {
	f := demo(t)
	srv := f.Serve(nil)
	ctx := context.Background()
	for _, tc := range []struct {
		name, repo string
	}{
		{"http", srv.URL},
		{"file", "file://" + f.Dir},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestClient(t, tc.repo, f.RootBytes())
			tests := []struct {
				pkg, constraint, platform string
				want                      string
			}{
				{"ratelimiting", "latest", "jammy", "1.1.0"},
				{"ratelimiting", "", "noble", "1.1.0"},
				{"ratelimiting", "^1.0", "jammy", "1.1.0"},
				{"ratelimiting", "~1.0", "jammy", "1.0.0"},
				{"ratelimiting", ">=1.0 <2", "jammy", "1.1.0"},
				{"ratelimiting", "2.0.0-rc.1", "jammy", "2.0.0-rc.1"},
				{"connlimit", "latest", "jammy", "0.9.0"},
				{"connlimit", "1.0.0", "jammy", "1.0.0"}, // yanked: exact only
			}
			for _, tt := range tests {
				rel, err := c.Resolve(ctx, tt.pkg, tt.constraint, tt.platform)
				if err != nil {
					t.Fatalf("Resolve(%s, %q, %s): %v", tt.pkg, tt.constraint, tt.platform, err)
				}
				if rel.Version != tt.want {
					t.Errorf("Resolve(%s, %q, %s) = %s, want %s", tt.pkg, tt.constraint, tt.platform, rel.Version, tt.want)
				}
			}
			rel, _ := c.Resolve(ctx, "ratelimiting", "^1", "noble")
			dir := t.TempDir()
			p, err := c.Fetch(ctx, rel, dir)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(p)
			if diff := cmp.Diff(f.Files[rel.TargetPath], got); diff != "" {
				t.Errorf("fetched bytes differ (-want +got):\n%s", diff)
			}
			if p != filepath.Join(dir, "l3af_ratelimiting.tar.gz") {
				t.Errorf("path %s", p)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	f := demo(t)
	c := newTestClient(t, f.Serve(nil).URL, f.RootBytes())
	ctx := context.Background()
	_, err := c.Resolve(ctx, "ratelimiting", "latest", "bookworm")
	var pe *index.PlatformError
	if !errors.As(err, &pe) || !cmp.Equal(pe.Supported, []string{"jammy", "noble"}) {
		t.Errorf("unknown platform: got %v, want *index.PlatformError listing jammy, noble", err)
	}
	_, err = c.Resolve(ctx, "connlimit", "^1.0", "jammy")
	var nm *index.NoMatchError
	if !errors.As(err, &nm) {
		t.Errorf("yanked by range: got %v, want *index.NoMatchError", err)
	}
	_, err = c.Resolve(ctx, "nosuch", "latest", "jammy")
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.Package != "nosuch" {
		t.Errorf("unknown package: got %v, want *NotFoundError", err)
	}
	_, err = c.Resolve(ctx, "../etc", "latest", "jammy")
	if err == nil {
		t.Error("traversal in name accepted")
	}
}

func TestSearchInfo(t *testing.T) {
	f := demo(t)
	c := newTestClient(t, f.Serve(nil).URL, f.RootBytes())
	ctx := context.Background()
	for term, want := range map[string][]string{
		"":      {"connlimit", "ratelimiting"},
		"RATE":  {"ratelimiting"},
		"xdp":   {"connlimit", "ratelimiting"},
		"nomat": {},
	} {
		res, err := c.Search(ctx, term)
		if err != nil {
			t.Fatal(err)
		}
		got := []string{}
		for _, p := range res {
			got = append(got, p.Name)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Search(%q) (-want +got):\n%s", term, diff)
		}
	}
	p, err := c.Info(ctx, "ratelimiting")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Versions) != 3 || p.Versions[0].Version != "2.0.0-rc.1" {
		t.Errorf("Info versions: %+v", p.Versions)
	}
	roles, err := c.Roles(ctx, p.Versions[0].Artifacts[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	if len(roles) != 5 || roles[4].Name[:5] != "bins-" {
		t.Errorf("Roles: %+v", roles)
	}
}

// TestInfoWithoutDescription: a signed index one of whose versions has a
// null description (decoded as a missing one is) is refused, naming the
// field, rather than read as a version with an empty manifest.
func TestInfoWithoutDescription(t *testing.T) {
	f := demo(t)
	f.Pkgs["connlimit"].Versions[1].Description = nil // 0.9.0
	f.Publish()
	tp := layout.PackageIndexTarget("connlimit")
	if !bytes.Contains(f.Files[tp], []byte(`"description": null`)) {
		t.Fatalf("fixture: %s has no null description:\n%s", tp, f.Files[tp])
	}
	c := newTestClient(t, f.Serve(nil).URL, f.RootBytes())
	ctx := context.Background()
	_, err := c.Info(ctx, "connlimit")
	var ie *IndexError
	if !errors.As(err, &ie) || ie.Target != tp || ie.Field != "versions[0.9.0].description" || ie.Msg != "missing" {
		t.Fatalf("Info: got %v, want *IndexError for %s versions[0.9.0].description", err, tp)
	}
	if _, err := c.Resolve(ctx, "connlimit", "1.0.0", "jammy"); !errors.As(err, &ie) {
		t.Errorf("Resolve: got %v, want *IndexError", err)
	}
	if _, err := c.Info(ctx, "ratelimiting"); err != nil {
		t.Errorf("another package: %v", err)
	}
}

func TestMirror(t *testing.T) {
	f := demo(t)
	srv := f.Serve(nil)
	ctx := context.Background()
	c := newTestClient(t, srv.URL, f.RootBytes())
	dir := t.TempDir()
	rep, err := c.Mirror(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"connlimit/0.9.0/jammy/l3af_connlimit.tar.gz",
		"connlimit/latest/jammy/l3af_connlimit.tar.gz",
		"ratelimiting/1.0.0/jammy/l3af_ratelimiting.tar.gz",
		"ratelimiting/1.0.0/noble/l3af_ratelimiting.tar.gz",
		"ratelimiting/1.1.0/jammy/l3af_ratelimiting.tar.gz",
		"ratelimiting/1.1.0/noble/l3af_ratelimiting.tar.gz",
		"ratelimiting/2.0.0-rc.1/jammy/l3af_ratelimiting.tar.gz",
		"ratelimiting/2.0.0-rc.1/noble/l3af_ratelimiting.tar.gz",
		"ratelimiting/latest/jammy/l3af_ratelimiting.tar.gz",
		"ratelimiting/latest/noble/l3af_ratelimiting.tar.gz",
	}
	if diff := cmp.Diff(want, treeFiles(t, dir)); diff != "" {
		t.Errorf("mirror tree (-want +got):\n%s", diff)
	}
	if w, u := rep.Counts(); w != len(want) || u != 0 {
		t.Errorf("first run: written %d unchanged %d", w, u)
	}
	latest, _ := os.ReadFile(filepath.Join(dir, "ratelimiting/latest/jammy/l3af_ratelimiting.tar.gz"))
	if !cmp.Equal(latest, f.Files["ratelimiting/1.1.0/jammy/l3af_ratelimiting.tar.gz"]) {
		t.Error("latest is not 1.1.0")
	}

	// A new release: the second run writes only it and replaces latest.
	f.AddPackage("ratelimiting", "1.2.0", "jammy", "noble")
	f.Publish()
	c2 := newTestClient(t, srv.URL, f.RootBytes())
	rep, err = c2.Mirror(ctx, dir, "ratelimiting")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range rep.Entries {
		if e.Action != "unchanged" {
			got = append(got, e.Action+" "+e.Path)
		}
	}
	wantChanged := []string{
		"written ratelimiting/1.2.0/jammy/l3af_ratelimiting.tar.gz",
		"written ratelimiting/1.2.0/noble/l3af_ratelimiting.tar.gz",
		"replaced ratelimiting/latest/jammy/l3af_ratelimiting.tar.gz",
		"replaced ratelimiting/latest/noble/l3af_ratelimiting.tar.gz",
	}
	if diff := cmp.Diff(wantChanged, got); diff != "" {
		t.Errorf("incremental run (-want +got):\n%s", diff)
	}
	latest, _ = os.ReadFile(filepath.Join(dir, "ratelimiting/latest/jammy/l3af_ratelimiting.tar.gz"))
	if !cmp.Equal(latest, f.Files["ratelimiting/1.2.0/jammy/l3af_ratelimiting.tar.gz"]) {
		t.Error("latest was not replaced by 1.2.0")
	}

	// A selector with a constraint mirrors one version per platform.
	dir2 := t.TempDir()
	if _, err := c2.Mirror(ctx, dir2, "ratelimiting@~1.0"); err != nil {
		t.Fatal(err)
	}
	want2 := []string{
		"ratelimiting/1.0.0/jammy/l3af_ratelimiting.tar.gz",
		"ratelimiting/1.0.0/noble/l3af_ratelimiting.tar.gz",
		"ratelimiting/latest/jammy/l3af_ratelimiting.tar.gz",
		"ratelimiting/latest/noble/l3af_ratelimiting.tar.gz",
	}
	if diff := cmp.Diff(want2, treeFiles(t, dir2)); diff != "" {
		t.Errorf("mirror @~1.0 (-want +got):\n%s", diff)
	}
	// The pin holds for latest too: l3afd asking for latest gets 1.0.0.
	latest, _ = os.ReadFile(filepath.Join(dir2, "ratelimiting/latest/jammy/l3af_ratelimiting.tar.gz"))
	if !cmp.Equal(latest, f.Files["ratelimiting/1.0.0/jammy/l3af_ratelimiting.tar.gz"]) {
		t.Error("latest of a mirror pinned to ~1.0 is not 1.0.0")
	}

	// Two selectors of one package: one latest, the newest stable of both;
	// a pre-release only mirror still gets a latest.
	dir3 := t.TempDir()
	rep, err = c2.Mirror(ctx, dir3, "ratelimiting@1.0.0", "ratelimiting@2.0.0-rc.1", "ratelimiting@~1.1")
	if err != nil {
		t.Fatal(err)
	}
	latest, _ = os.ReadFile(filepath.Join(dir3, "ratelimiting/latest/noble/l3af_ratelimiting.tar.gz"))
	if !cmp.Equal(latest, f.Files["ratelimiting/1.1.0/noble/l3af_ratelimiting.tar.gz"]) {
		t.Error("latest of 1.0.0 + 2.0.0-rc.1 + ~1.1 is not 1.1.0")
	}
	if w, _ := rep.Counts(); w != 8 {
		t.Errorf("three selectors wrote %d files, want 8 (3 versions and latest, 2 platforms)", w)
	}
	dir4 := t.TempDir()
	if _, err := c2.Mirror(ctx, dir4, "ratelimiting@2.0.0-rc.1"); err != nil {
		t.Fatal(err)
	}
	latest, _ = os.ReadFile(filepath.Join(dir4, "ratelimiting/latest/jammy/l3af_ratelimiting.tar.gz"))
	if !cmp.Equal(latest, f.Files["ratelimiting/2.0.0-rc.1/jammy/l3af_ratelimiting.tar.gz"]) {
		t.Error("latest of a pre-release-only mirror is not that pre-release")
	}
	// Every version of a package yanked: its stale latest goes, the
	// versioned files stay (exact versions remain downloadable).
	if _, err := c2.Mirror(ctx, dir, "connlimit"); err != nil {
		t.Fatal(err)
	}
	f.Yank("connlimit", "0.9.0")
	f.Publish()
	c3 := newTestClient(t, srv.URL, f.RootBytes())
	rep, err = c3.Mirror(ctx, dir, "connlimit")
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, e := range rep.Entries {
		got = append(got, e.Action+" "+e.Path)
	}
	if diff := cmp.Diff([]string{"removed connlimit/latest/jammy/l3af_connlimit.tar.gz"}, got); diff != "" {
		t.Errorf("mirror after yanking every version (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(dir, "connlimit/0.9.0/jammy/l3af_connlimit.tar.gz")); err != nil {
		t.Errorf("versioned file of a yanked version removed: %v", err)
	}

	// A selector that selects nothing is an error naming the selector.
	if _, err := c2.Mirror(ctx, t.TempDir(), "ratelimiting@^3"); err == nil || !strings.Contains(err.Error(), "mirror ratelimiting@^3") {
		t.Errorf("mirror of ^3: %v", err)
	}
}

// treeFiles lists the regular files under dir, slash-separated, sorted.
func treeFiles(t *testing.T, dir string) []string {
	t.Helper()
	out := []string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCacheBoundToPinnedRoot(t *testing.T) {
	f := demo(t)
	srv := f.Serve(nil)
	ctx := context.Background()
	cache := t.TempDir()
	open := func(root []byte) *Client {
		c, err := New(Options{RepoURL: srv.URL, TrustedRoot: root, CacheDir: cache, Retries: -1})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if err := open(f.RootBytes()).Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	// A damaged cached root: start again from the pinned one.
	os.WriteFile(filepath.Join(cache, "metadata", "root.json"), []byte("{garbage"), 0o644)
	if err := open(f.RootBytes()).Refresh(ctx); err != nil {
		t.Fatalf("damaged cache: %v", err)
	}
	// Another pinned root: the cached chain of trust is discarded and the
	// wrong root fails, whatever the cache says.
	err := open(newFixture(t).RootBytes()).Refresh(ctx)
	var unsigned *metadata.ErrUnsignedMetadata
	if !errors.As(err, &unsigned) {
		t.Errorf("other pinned root over a good cache: got %v, want ErrUnsignedMetadata", err)
	}
}

func TestNewOptions(t *testing.T) {
	root := newFixture(t).RootBytes()
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{RepoURL: "ftp://x", TrustedRoot: root}, "scheme"},
		{Options{RepoURL: "http://", TrustedRoot: root}, "no host"},
		{Options{RepoURL: "http://x"}, "no trust on first use"},
		{Options{RepoURL: "http://x", TrustedRoot: []byte("{}")}, "trusted root"},
	} {
		tc.o.CacheDir = t.TempDir()
		if _, err := New(tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want error containing %q", tc.o.RepoURL, err, tc.want)
		}
	}
}

func TestIndexSchemaTooNew(t *testing.T) {
	f := demo(t)
	f.Pkgs["connlimit"].Schema = index.Schema + 1
	f.Publish()
	c := newTestClient(t, f.Serve(nil).URL, f.RootBytes())
	_, err := c.Info(context.Background(), "connlimit")
	var se *SchemaError
	if !errors.As(err, &se) || se.Schema != index.Schema+1 || !strings.Contains(err.Error(), "upgrade") {
		t.Errorf("got %v, want *SchemaError telling to upgrade", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	f := demo(t)
	c := newTestClient(t, f.Serve(nil).URL, f.RootBytes(), func(o *Options) { o.MaxAge = -1 })
	ctx := context.Background()
	errs := make(chan error, 16)
	for i := range 16 {
		go func() {
			plat := []string{"jammy", "noble"}[i%2]
			rel, err := c.Resolve(ctx, "ratelimiting", "latest", plat)
			if err == nil {
				_, err = c.Fetch(ctx, rel, filepath.Join(t.TempDir(), plat))
			}
			errs <- err
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestContextHonoured: a cancelled context stops a call before any
// request, and a deadline stops a download the server stalls; nothing
// is written either way.
func TestContextHonoured(t *testing.T) {
	f := demo(t)
	sw := &swapHandler{}
	srv := f.Serve(sw.middleware)
	c := newTestClient(t, srv.URL, f.RootBytes())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Resolve(ctx, "ratelimiting", "latest", "jammy"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v, want context.Canceled", err)
	}
	rel, err := c.Resolve(context.Background(), "ratelimiting", "latest", "jammy")
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	defer close(release)
	sw.set(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, ".tar.gz") {
				w.Write([]byte("partial"))
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
				case <-release:
				}
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	dctx, dcancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer dcancel()
	dst := t.TempDir()
	if _, err := c.Fetch(dctx, rel, dst); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("stalled download: got %v, want context.DeadlineExceeded", err)
	}
	if files := treeFiles(t, dst); len(files) != 0 {
		t.Errorf("wrote %v", files)
	}
}

func TestRootPin(t *testing.T) {
	f := demo(t)
	root := f.RootBytes()
	sum := sha256.Sum256(root)
	good := hex.EncodeToString(sum[:])
	for _, tc := range []struct {
		name, pin string
		ok        bool
	}{
		{"no pin", "", true},
		{"right pin", good, true},
		{"right pin, upper case", strings.ToUpper(good), true},
		{"wrong pin", strings.Repeat("0", 64), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Options{RepoURL: "http://127.0.0.1:1", TrustedRoot: root, RootSHA256: tc.pin, CacheDir: t.TempDir()})
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var pe *RootPinError
			if !errors.As(err, &pe) || pe.Got != good || !errors.Is(err, ErrVerification) {
				t.Fatalf("got %v, want a *RootPinError naming %s that matches ErrVerification", err, good)
			}
		})
	}
}

func TestSearchRanking(t *testing.T) {
	pkgs := []index.SummaryPackage{
		{Name: "conntrack", Description: "tracks TCP connections"},
		{Name: "tc-stats", Keywords: []string{"stats"}, ProgramTypes: []string{"tc"}},
		{Name: "tcp-syn", Description: "syn cookies"},
		{Name: "xdp-tc-bridge", Description: "bridges"},
		{Name: "other", Keywords: []string{"tc"}},
		{Name: "unrelated", Description: "nothing"},
	}
	var got []string
	type hit struct {
		name string
		rank int
	}
	var hits []hit
	for _, p := range pkgs {
		if r := matchRank(p, "tc"); r >= 0 {
			hits = append(hits, hit{p.Name, r})
		}
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return a.rank - b.rank })
	for _, h := range hits {
		got = append(got, h.name)
	}
	want := []string{"tc-stats", "tcp-syn", "xdp-tc-bridge", "other", "conntrack"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ranking for \"tc\" (-want +got):\n%s", diff)
	}
}

// TestMirrorSaysWhatItSkips: a package whose every version is yanked is
// not mirrored, and the report says so instead of leaving it out silently.
func TestMirrorSaysWhatItSkips(t *testing.T) {
	f := newFixture(t)
	f.AddPackage("gone", "1.0.0", "jammy")
	f.Yank("gone", "1.0.0")
	f.AddPackage("kept", "1.0.0", "jammy")
	f.Publish()
	repo := f.Serve(nil)
	c := newTestClient(t, repo.URL, f.RootBytes())
	rep, err := c.Mirror(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Skipped) != 1 || rep.Skipped[0].Name != "gone" || !strings.Contains(rep.Skipped[0].Reason, "yanked") {
		t.Errorf("skipped %+v, want gone (every version yanked)", rep.Skipped)
	}
	for _, e := range rep.Entries {
		if e.Name == "gone" {
			t.Errorf("a wholly yanked package was mirrored: %+v", e)
		}
	}
}

// TestCheckHoldsFewBins: Check looks the targets up in bin order and lets
// go-tuf drop each hashed bin once it has moved past it; what it verifies
// is the same.
func TestCheckHoldsFewBins(t *testing.T) {
	f := demo(t)
	var binReqs []string
	var mu sync.Mutex
	srv := f.Serve(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, ".bins-") {
				mu.Lock()
				binReqs = append(binReqs, r.URL.Path)
				mu.Unlock()
			}
			next.ServeHTTP(w, r)
		})
	})
	c := newTestClient(t, srv.URL, f.RootBytes())
	rep, err := c.Check(context.Background())
	var ce *CheckError
	if !errors.As(err, &ce) {
		t.Fatalf("Check: %v, want only the missing l3afd tree reported", err)
	}
	for _, p := range ce.Problems {
		if !strings.HasPrefix(p, "l3afd/") { // the fixture has no plain l3afd tree
			t.Errorf("problem %q", p)
		}
	}
	if rep.Packages != 2 || rep.Versions != 5 || rep.Targets != 8 {
		t.Errorf("checked %d packages, %d versions, %d targets; want 2, 5, 8", rep.Packages, rep.Versions, rep.Targets)
	}
	// Each bin downloaded once: a bin dropped and needed again comes from
	// the verified cache.
	slices.Sort(binReqs)
	if n := len(slices.Compact(slices.Clone(binReqs))); n != len(binReqs) || n < 2 {
		t.Errorf("bin requests %v: want each of at least two bins once", binReqs)
	}
	held := 0
	for name := range c.up.up.GetTrustedMetadataSet().Targets {
		if strings.HasPrefix(name, "bins-") {
			held++
		}
	}
	if held > 1 {
		t.Errorf("go-tuf holds %d bins after the check, want at most 1", held)
	}
}

// TestCheckReloadsVerified: a bin the check dropped and needs again (in
// its second chunk) is verified afresh: a cached copy whose signature no
// longer verifies is not taken, the bin is downloaded again, and the
// check still verifies every target.
func TestCheckReloadsVerified(t *testing.T) {
	defer func(n int) { minCheckChunk = n }(minCheckChunk)
	minCheckChunk = 1 // two chunks of the demo's packages
	f := demo(t)
	var c *Client
	var mu sync.Mutex
	binReqs := map[string]int{}
	tampered := map[string]bool{}
	sig := regexp.MustCompile(`"sig": ?"[0-9a-f]`)
	srv := f.Serve(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			if strings.Contains(r.URL.Path, ".bins-") {
				binReqs[path.Base(r.URL.Path)]++
			}
			if strings.HasPrefix(r.URL.Path, "/targets/index/") {
				// The index files of a chunk are read before its pass over
				// the bins: every bin cached so far gets a signature that
				// no longer verifies.
				files, _ := filepath.Glob(filepath.Join(c.metadataDir, "bins-*.json"))
				for _, p := range files {
					if tampered[p] {
						continue
					}
					tampered[p] = true
					b, err := os.ReadFile(p)
					if err != nil {
						t.Error(err)
						continue
					}
					b = sig.ReplaceAllFunc(b, func(m []byte) []byte {
						m = slices.Clone(m)
						if m[len(m)-1] == '0' {
							m[len(m)-1] = '1'
						} else {
							m[len(m)-1] = '0'
						}
						return m
					})
					if err := os.WriteFile(p, b, 0o644); err != nil {
						t.Error(err)
					}
				}
				if len(files) == 0 {
					t.Error("no bins cached before an index file was read")
				}
			}
			mu.Unlock()
			next.ServeHTTP(w, r)
		})
	})
	c = newTestClient(t, srv.URL, f.RootBytes())
	rep, err := c.Check(context.Background())
	var ce *CheckError
	if !errors.As(err, &ce) {
		t.Fatalf("Check: %v, want only the missing l3afd tree reported", err)
	}
	for _, p := range ce.Problems {
		if !strings.HasPrefix(p, "l3afd/") {
			t.Errorf("problem %q", p)
		}
	}
	if rep.Targets != 8 {
		t.Errorf("verified %d targets, want 8", rep.Targets)
	}
	again := 0
	for _, n := range binReqs {
		if n > 1 {
			again++
		}
	}
	if len(tampered) == 0 || again == 0 {
		t.Errorf("bin requests %v: want a bin whose cached copy was tampered with downloaded again", binReqs)
	}
}

// TestCheckChunk: a check walks the bins at most twice over (two chunks),
// whatever the repository's size, and never holds fewer than 2,048
// packages' releases at once when there are more.
func TestCheckChunk(t *testing.T) {
	for _, n := range []int{0, 1, 2047, 2048, 4096, 4097, 10_000, 100_001, 1_000_000} {
		c := checkChunk(n)
		if chunks := (n + c - 1) / c; chunks > 2 || c < 2048 {
			t.Errorf("%d packages: chunks of %d, %d of them", n, c, chunks)
		}
	}
}

// TestCheckIndexFiles: a check verifies each package's index file
// against the signed summary and the summary's record of it against the
// signed targets; each way the three can disagree is a problem naming
// the file, and the package's artifacts are not taken from an index
// that failed.
func TestCheckIndexFiles(t *testing.T) {
	const pkg = "connlimit"
	tp := layout.PackageIndexTarget(pkg)
	for _, tc := range []struct {
		name   string
		damage func(f *fixture)        // before signing (BeforeSign)
		after  func(f *fixture)        // after publishing
		want   func(f *fixture) string // the problem, given the published repository
	}{
		{"index file edited", nil, func(f *fixture) {
			p := filepath.Join(f.Dir, filepath.FromSlash(f.TargetFile(tp)))
			b, _ := os.ReadFile(p)
			b[len(b)/2] ^= 0x20
			os.WriteFile(p, b, 0o644)
		}, func(f *fixture) string { return f.TargetFile(tp) + ": index of connlimit: sha256 " }},
		{"index file missing", nil, func(f *fixture) {
			os.Remove(filepath.Join(f.Dir, filepath.FromSlash(f.TargetFile(tp))))
		}, func(f *fixture) string { return f.TargetFile(tp) + ": index of connlimit: " }},
		{"summary and signed targets disagree", func(f *fixture) {
			// The summary names the index as it was; the targets sign
			// another one (a version fewer), published beside it.
			f.Write(f.TargetFile(tp), f.Files[tp])
			p := *f.Pkgs[pkg]
			p.Versions = p.Versions[1:]
			f.Files[tp], _ = json.MarshalIndent(&p, "", "  ")
		}, nil, func(f *fixture) string {
			return tp + ": the summary (index/all.json) says "
		}},
		{"index file not signed", func(f *fixture) {
			f.Write(f.TargetFile(tp), f.Files[tp])
			delete(f.Files, tp)
		}, nil, func(f *fixture) string { return tp + ": " }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.AddPackage("ratelimiting", "1.0.0", "jammy")
			f.AddPackage(pkg, "0.9.0", "jammy")
			f.AddPackage(pkg, "1.0.0", "jammy")
			if tc.damage != nil {
				f.BeforeSign = func() { tc.damage(f) }
			}
			f.Publish()
			if tc.after != nil {
				tc.after(f)
			}
			want := tc.want(f)
			c := newTestClient(t, f.Serve(nil).URL, f.RootBytes())
			_, err := c.Check(context.Background())
			var ce *CheckError
			if !errors.As(err, &ce) {
				t.Fatalf("Check: %v, want a CheckError", err)
			}
			var found []string
			for _, p := range ce.Problems {
				switch {
				case strings.HasPrefix(p, "l3afd/"): // the fixture has no l3afd tree
				case strings.HasPrefix(p, want):
					found = append(found, p)
				default:
					t.Errorf("problem %q", p)
				}
			}
			if len(found) != 1 {
				t.Errorf("problems %q: want one starting %q", ce.Problems, want)
			}
		})
	}
}

// TestSummaryNamesIndex: only a summary entry whose name is one path
// component and whose digest is 64 lowercase hex digits names the URL of
// an index file; any other goes through TUF.
func TestSummaryNamesIndex(t *testing.T) {
	good := index.SummaryPackage{Name: "p", Index: "index/p.json", IndexLength: 10, IndexSHA256: strings.Repeat("0a", 32)}
	for _, tc := range []struct {
		name string
		mod  func(*index.SummaryPackage)
		want bool
	}{
		{"good", func(*index.SummaryPackage) {}, true},
		{"other index path", func(s *index.SummaryPackage) { s.Index = "index/q.json" }, false},
		{"name with a slash", func(s *index.SummaryPackage) { s.Name, s.Index = "../p", "index/../p.json" }, false},
		{"no digest", func(s *index.SummaryPackage) { s.IndexSHA256 = "" }, false},
		{"upper-case digest", func(s *index.SummaryPackage) { s.IndexSHA256 = strings.Repeat("0A", 32) }, false},
		{"digest with a slash", func(s *index.SummaryPackage) { s.IndexSHA256 = strings.Repeat("0a", 31) + "/." }, false},
		{"short digest", func(s *index.SummaryPackage) { s.IndexSHA256 = strings.Repeat("0a", 31) }, false},
		{"negative length", func(s *index.SummaryPackage) { s.IndexLength = -1 }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp := good
			tc.mod(&sp)
			if got := summaryNamesIndex(&sp, layout.PackageIndexTarget(sp.Name)); got != tc.want {
				t.Errorf("summaryNamesIndex(%+v) = %v, want %v", sp, got, tc.want)
			}
		})
	}
}
