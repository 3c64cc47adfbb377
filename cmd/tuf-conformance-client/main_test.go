package main

import (
	"bytes"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ebpfrepo/ebpfrepo/client/clienttest"
	"github.com/google/go-cmp/cmp"
)

// The test binary doubles as the client under test: with this variable
// set it runs main, so the tests drive a real process through the
// protocol (arguments, exit status, files) as the conformance suite does.
const execEnv = "TUF_CONFORMANCE_CLIENT_EXEC"

func TestMain(m *testing.M) {
	if os.Getenv(execEnv) == "1" {
		main()
	}
	os.Exit(m.Run())
}

// runner plays the suite's ClientRunner: one metadata dir and one
// artifact dir per test, the client started as a process per command.
type runner struct {
	t                 *testing.T
	dir, md, td       string
	mdURL, targetsURL string
	env               []string
	stderr            string
}

func (r *runner) cli(args ...string) int {
	r.t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), execEnv+"=1"), r.env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	r.stderr = stderr.String()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		r.t.Fatal(err)
	}
	return 0
}

func (r *runner) init(root []byte) int {
	p := filepath.Join(r.dir, "initial_root.json")
	if err := os.WriteFile(p, root, 0o644); err != nil {
		r.t.Fatal(err)
	}
	return r.cli("--metadata-dir", r.md, "init", p)
}

// The suite passes --metadata-url before --metadata-dir.
func (r *runner) refresh() int {
	return r.cli("--metadata-url", r.mdURL, "--metadata-dir", r.md, "refresh")
}

func (r *runner) download(target string) int {
	return r.cli("--metadata-url", r.mdURL, "--metadata-dir", r.md, "--target-name", target,
		"--target-dir", r.td, "--target-base-url", r.targetsURL, "download")
}

// downloaded lists the artifact dir: file name → content.
func (r *runner) downloaded() map[string]string {
	out := map[string]string{}
	ents, _ := os.ReadDir(r.td)
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(r.td, e.Name()))
		out[e.Name()] = string(b)
	}
	return out
}

func (r *runner) trusted() []string {
	ents, _ := os.ReadDir(r.md)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// recorder logs the paths a server is asked for.
type recorder struct {
	mu   sync.Mutex
	reqs []string
}

func (rc *recorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, req.URL.Path)
		rc.mu.Unlock()
		next.ServeHTTP(w, req)
	})
}

func (rc *recorder) take() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := rc.reqs
	rc.reqs = nil
	return out
}

func newRunner(t *testing.T) (*runner, *clienttest.Repo, *recorder) {
	repo := clienttest.Demo(t)
	rec := &recorder{}
	srv := repo.Serve(rec.wrap)
	dir := t.TempDir()
	r := &runner{t: t, dir: dir, md: filepath.Join(dir, "metadata"), td: filepath.Join(dir, "targets"),
		mdURL: srv.URL + "/metadata", targetsURL: srv.URL + "/targets"}
	os.Mkdir(r.md, 0o755)
	os.Mkdir(r.td, 0o755)
	return r, repo, rec
}

func TestProtocol(t *testing.T) {
	r, repo, rec := newRunner(t)

	// init: copies the root, exit 0, no request.
	if code := r.init(repo.RootBytes()); code != 0 {
		t.Fatalf("init: exit %d: %s", code, r.stderr)
	}
	if got := rec.take(); len(got) != 0 {
		t.Errorf("init made requests: %v", got)
	}

	// refresh: the TUF workflow for the top-level roles; non-versioned
	// file names in the metadata dir; nothing in the artifact dir.
	if code := r.refresh(); code != 0 {
		t.Fatalf("refresh: exit %d: %s", code, r.stderr)
	}
	if diff := cmp.Diff([]string{"root.json", "snapshot.json", "targets.json", "timestamp.json"}, r.trusted()); diff != "" {
		t.Errorf("metadata dir after refresh (-want +got):\n%s", diff)
	}
	want := []string{"/metadata/2.root.json", "/metadata/timestamp.json", "/metadata/1.snapshot.json", "/metadata/1.targets.json"}
	if diff := cmp.Diff(want, rec.take()); diff != "" {
		t.Errorf("refresh requests (-want +got):\n%s", diff)
	}
	if got := r.downloaded(); len(got) != 0 {
		t.Errorf("refresh wrote artifacts: %v", got)
	}

	// download: refresh, the hashed bin, the hash-prefixed target.
	target := "ratelimiting/1.1.0/jammy/l3af_ratelimiting.tar.gz"
	if code := r.download(target); code != 0 {
		t.Fatalf("download: exit %d: %s", code, r.stderr)
	}
	wantFiles := map[string]string{url.PathEscape(target): string(repo.Files[target])}
	if diff := cmp.Diff(wantFiles, r.downloaded()); diff != "" {
		t.Errorf("artifact dir (-want +got):\n%s", diff)
	}
	reqs := rec.take()
	if !slices.Contains(reqs, "/"+repo.TargetFile(target)) {
		t.Errorf("download did not fetch the hash-prefixed target %s: %v", repo.TargetFile(target), reqs)
	}
	// Cached: a second download refreshes but does not fetch the target.
	if code := r.download(target); code != 0 {
		t.Fatalf("second download: exit %d: %s", code, r.stderr)
	}
	for _, p := range rec.take() {
		if strings.HasPrefix(p, "/targets/") {
			t.Errorf("second download fetched %s despite a verified cached copy", p)
		}
	}

	// A substituted artifact: exit 1, not stored, the good one untouched.
	other := "ratelimiting/1.0.0/jammy/l3af_ratelimiting.tar.gz"
	repo.Write(repo.TargetFile(other), []byte("malicious data - should not download"))
	if code := r.download(other); code != 1 {
		t.Errorf("substituted target: exit %d, want 1", code)
	}
	if diff := cmp.Diff(wantFiles, r.downloaded()); diff != "" {
		t.Errorf("artifact dir after a failed download (-want +got):\n%s", diff)
	}
	// A target no role lists: exit 1.
	if code := r.download("nonexistent target"); code != 1 {
		t.Errorf("unknown target: exit %d, want 1", code)
	}

	// A new repository version is picked up by the next refresh.
	repo.AddPackage("ratelimiting", "1.2.0", "jammy")
	repo.Publish()
	if code := r.refresh(); code != 0 {
		t.Fatalf("refresh after publish: exit %d: %s", code, r.stderr)
	}
	if code := r.download("ratelimiting/1.2.0/jammy/l3af_ratelimiting.tar.gz"); code != 0 {
		t.Errorf("download of the new version: exit %d: %s", code, r.stderr)
	}

	// A repeated --target-name: one updater downloads each, in order; the
	// first failure stops it with exit 1.
	two := []string{"ratelimiting/1.2.0/jammy/l3af_ratelimiting.tar.gz", "ratelimiting/1.1.0/jammy/l3af_ratelimiting.tar.gz"}
	args := []string{"--metadata-url", r.mdURL, "--metadata-dir", r.md}
	for _, n := range two {
		args = append(args, "--target-name", n)
	}
	rec.take()
	if code := r.cli(append(args, "--target-dir", r.td, "--target-base-url", r.targetsURL, "download")...); code != 0 {
		t.Fatalf("download of two targets: exit %d: %s", code, r.stderr)
	}
	for _, n := range two {
		if _, ok := r.downloaded()[url.PathEscape(n)]; !ok {
			t.Errorf("%s not downloaded", n)
		}
	}
	got := rec.take()
	if n := len(slices.DeleteFunc(slices.Clone(got), func(p string) bool { return p != "/metadata/timestamp.json" })); n != 1 {
		t.Errorf("%d timestamp requests for two targets, want one updater (one refresh): %v", n, got)
	}
	bad := append(slices.Clone(args[:4]), "--target-name", "nonexistent target", "--target-name", two[0], "--target-dir", r.td, "--target-base-url", r.targetsURL, "download")
	if code := r.cli(bad...); code != 1 {
		t.Errorf("first target unknown: exit %d, want 1", code)
	}

	// Usage errors exit 1 too.
	for _, args := range [][]string{
		{"--metadata-dir", r.md, "--metadata-url", r.mdURL, "frobnicate"},
		{"--metadata-dir", r.md, "refresh"}, // no --metadata-url
		{"--metadata-dir", r.md, "--metadata-url", r.mdURL, "download"},
		{"--no-such-flag"},
		{},
	} {
		if code := r.cli(args...); code != 1 {
			t.Errorf("%q: exit %d, want 1", args, code)
		}
	}
}

// TestProtocolFreezeAndRollback: failures of the workflow exit 1 and
// leave the trusted metadata as it was.
func TestProtocolFreezeAndRollback(t *testing.T) {
	r, repo, _ := newRunner(t)
	if code := r.init(repo.RootBytes()); code != 0 {
		t.Fatalf("init: exit %d: %s", code, r.stderr)
	}
	if code := r.refresh(); code != 0 {
		t.Fatalf("refresh: exit %d: %s", code, r.stderr)
	}
	trusted, _ := os.ReadFile(filepath.Join(r.md, "timestamp.json"))

	// Freeze: the clock faketime would set is past the timestamp expiry.
	r.env = []string{"FAKETIME=@" + time.Now().Add(48*time.Hour).Format("2006-01-02 15:04:05")}
	if code := r.refresh(); code != 1 {
		t.Errorf("refresh with an expired timestamp: exit %d, want 1", code)
	}
	if !strings.Contains(r.stderr, "expired") {
		t.Errorf("expired: stderr %q", r.stderr)
	}
	if got, _ := os.ReadFile(filepath.Join(r.md, "timestamp.json")); !bytes.Equal(got, trusted) {
		t.Error("trusted timestamp.json changed by a failed refresh")
	}
	r.env = []string{"FAKETIME=+1h"}
	if code := r.refresh(); code != 0 {
		t.Errorf("refresh one hour later: exit %d: %s", code, r.stderr)
	}
	r.env = []string{"FAKETIME=next tuesday"}
	if code := r.refresh(); code != 1 {
		t.Errorf("unreadable FAKETIME: exit %d, want 1", code)
	}
	r.env = nil

	// Rollback: the server goes back to timestamp version 1 after the
	// client trusted version 2.
	old := repo.Read("metadata/timestamp.json")
	repo.Publish()
	if code := r.refresh(); code != 0 {
		t.Fatalf("refresh v2: exit %d: %s", code, r.stderr)
	}
	trusted, _ = os.ReadFile(filepath.Join(r.md, "timestamp.json"))
	repo.Write("metadata/timestamp.json", old)
	if code := r.refresh(); code != 1 {
		t.Errorf("rolled-back timestamp: exit %d, want 1", code)
	}
	if got, _ := os.ReadFile(filepath.Join(r.md, "timestamp.json")); !bytes.Equal(got, trusted) {
		t.Error("trusted timestamp.json changed by a failed refresh")
	}
}

func TestFakeNow(t *testing.T) {
	real := func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	for in, want := range map[string]time.Time{
		"":                          real(),
		"+2d":                       real().Add(48 * time.Hour),
		"-10h":                      real().Add(-10 * time.Hour),
		"+90":                       real().Add(90 * time.Second),
		"@2030-05-06 07:08:09":      time.Date(2030, 5, 6, 7, 8, 9, 0, time.Local),
		"2030-05-06 07:08:09.25":    time.Date(2030, 5, 6, 7, 8, 9, 250e6, time.Local),
		"  @2030-05-06 07:08:09   ": time.Date(2030, 5, 6, 7, 8, 9, 0, time.Local),
	} {
		now, err := fakeNow(in, real)
		if err != nil {
			t.Errorf("fakeNow(%q): %v", in, err)
			continue
		}
		if got := now(); !got.Equal(want) {
			t.Errorf("fakeNow(%q)() = %v, want %v", in, got, want)
		}
	}
	for _, bad := range []string{"tomorrow", "+xd", "@2030-13-01 00:00:00"} {
		if _, err := fakeNow(bad, real); err == nil {
			t.Errorf("fakeNow(%q) accepted", bad)
		}
	}
}

// FuzzFakeNow: any FAKETIME value is parsed or refused, never a panic.
func FuzzFakeNow(f *testing.F) {
	for _, s := range []string{"", "+2d", "-10h", "@2030-05-06 07:08:09", "2030-05-06 07:08:09.5", "+", "-", "@", "+1e308y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if now, err := fakeNow(s, time.Now); err == nil {
			now()
		}
	})
}

// TestProtocolUnusualTargetNames: TUF target paths are arbitrary strings;
// each is stored as one file inside the artifact dir, never beside it.
func TestProtocolUnusualTargetNames(t *testing.T) {
	r, repo, _ := newRunner(t)
	names := []string{"..", ".", "dir/with space.txt"}
	for i, n := range names {
		repo.Files[n] = []byte("content " + strconv.Itoa(i))
	}
	repo.Publish()
	if code := r.init(repo.RootBytes()); code != 0 {
		t.Fatalf("init: exit %d: %s", code, r.stderr)
	}
	want := map[string]string{}
	for i, n := range names {
		if code := r.download(n); code != 0 {
			t.Fatalf("download %q: exit %d: %s", n, code, r.stderr)
		}
		want[map[string]string{"..": "%2E%2E", ".": "%2E", "dir/with space.txt": "dir%2Fwith%20space.txt"}[n]] = "content " + strconv.Itoa(i)
	}
	if diff := cmp.Diff(want, r.downloaded()); diff != "" {
		t.Errorf("artifact dir (-want +got):\n%s", diff)
	}
	ents, _ := os.ReadDir(r.dir)
	var top []string
	for _, e := range ents {
		top = append(top, e.Name())
	}
	if diff := cmp.Diff([]string{"initial_root.json", "metadata", "targets"}, top); diff != "" {
		t.Errorf("files beside the artifact dir (-want +got):\n%s", diff)
	}
}
