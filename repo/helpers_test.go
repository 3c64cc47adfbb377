package repo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ebpfrepo/ebpfrepo/client"
	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/internal/outtree"
	"github.com/ebpfrepo/ebpfrepo/internal/testpkgs"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/progtest"
	"github.com/theupdateframework/go-tuf/v2/metadata/config"
	"github.com/theupdateframework/go-tuf/v2/metadata/updater"
)

// t0 is the build time of the tests (expiry dates follow from it).
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newRepo(t *testing.T) *Repo {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	ctx := context.Background()
	if err := Init(ctx, dir, InitOptions{Name: "test-repo", Description: "a test repository", Now: t0}); err != nil {
		t.Fatal(err)
	}
	r, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// packed packs the good example packages once per test binary.
var packedCache = map[string]string{}

func packed(t *testing.T, dir string) string {
	t.Helper()
	if p, ok := packedCache[dir]; ok {
		return p
	}
	p := testpkgs.Pack(t, testpkgs.Dir(dir))
	// t.TempDir is removed with the test: keep a copy for the binary's life.
	keep := filepath.Join(testTmp, dir)
	os.MkdirAll(keep, 0o755)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(keep, filepath.Base(p))
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
	packedCache[dir] = dst
	return dst
}

var testTmp string

func TestMain(m *testing.M) {
	var err error
	testTmp, err = os.MkdirTemp("", "repo-test-")
	if err != nil {
		panic(err)
	}
	os.Unsetenv("SOURCE_DATE_EPOCH")
	progtest.Serve() // verify = true runs test vectors in child processes of this binary
	code := m.Run()
	os.RemoveAll(testTmp)
	os.Exit(code)
}

// goodPackages are the example packages the integration tests add.
var goodPackages = []string{"connection-limit", "ratelimiting-1.0.0", "ratelimiting-1.1.0", "ratelimiting-2.0.0-rc.1", "tc-stats", "xdp-root"}

func addGood(t *testing.T, r *Repo, names ...string) []AddResult {
	t.Helper()
	if len(names) == 0 {
		names = goodPackages
	}
	var paths []string
	for _, n := range names {
		paths = append(paths, packed(t, n))
	}
	res, err := r.Add(context.Background(), paths, AddOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func build(t *testing.T, r *Repo, opts BuildOptions) *BuildResult {
	t.Helper()
	if opts.Now.IsZero() {
		opts.Now = t0
	}
	res, err := r.Build(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// tree returns path → sha256 of every regular file under dir.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			sum := sha256.Sum256(data)
			out[filepath.ToSlash(rel)] = hex.EncodeToString(sum[:])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func readJSON(t *testing.T, p string, v any) {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
}

// serve serves dir on 127.0.0.1.
func serve(t *testing.T, dir string) *httptest.Server {
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	return srv
}

// tufClient is a go-tuf updater session against srv with a trusted root,
// its reference time set to now.
type tufClient struct {
	t       *testing.T
	url     string
	metaDir string
	tgtDir  string
	now     time.Time
}

func newTUFClient(t *testing.T, url string, root []byte, now time.Time) *tufClient {
	c := &tufClient{t: t, url: url, metaDir: t.TempDir(), tgtDir: t.TempDir(), now: now}
	if err := os.WriteFile(filepath.Join(c.metaDir, "root.json"), root, 0o644); err != nil {
		t.Fatal(err)
	}
	return c
}

// refresh runs a new updater session from the cached root.
func (c *tufClient) refresh() (*updater.Updater, error) {
	root, err := os.ReadFile(filepath.Join(c.metaDir, "root.json"))
	if err != nil {
		return nil, err
	}
	cfg, err := config.New(c.url+"/metadata", root)
	if err != nil {
		return nil, err
	}
	cfg.RemoteTargetsURL = c.url + "/targets"
	cfg.LocalMetadataDir = c.metaDir
	cfg.LocalTargetsDir = c.tgtDir
	cfg.PrefixTargetsWithHash = true
	up, err := updater.New(cfg)
	if err != nil {
		return nil, err
	}
	up.UnsafeSetRefTime(c.now)
	return up, up.Refresh()
}

// download fetches and verifies one target.
func (c *tufClient) download(up *updater.Updater, tp string) []byte {
	c.t.Helper()
	ti, err := up.GetTargetInfo(tp)
	if err != nil {
		c.t.Fatalf("target %s: %v", tp, err)
	}
	_, data, err := up.DownloadTarget(ti, filepath.Join(c.t.TempDir(), "f"), "")
	if err != nil {
		c.t.Fatalf("download %s: %v", tp, err)
	}
	return data
}

// packageIndex reads a published per-package index through TUF.
func (c *tufClient) summary(up *updater.Updater) *index.Summary {
	var s index.Summary
	if err := json.Unmarshal(c.download(up, layout.SummaryTarget), &s); err != nil {
		c.t.Fatal(err)
	}
	return &s
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// retiredFiles lists the files the live output under out keeps only for
// the grace period.
func retiredFiles(out string) map[string]string {
	if l := outtree.LiveTree(out); l != nil {
		return l.Manifest.Retired
	}
	return nil
}

// newCheckClient is a client of the repository at url, with the clock of
// the tests.
func newCheckClient(t *testing.T, url string, root []byte) *client.Client {
	t.Helper()
	c, err := client.New(client.Options{RepoURL: url, TrustedRoot: root, CacheDir: t.TempDir(), Retries: -1,
		Now: func() time.Time { return t0.Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// freshDiff builds r again with opts into a new directory and returns how
// out differs from it (-fresh +out), files kept only for the grace period
// left aside: a reused tree must equal a fresh build.
func freshDiff(t *testing.T, r *Repo, out string, opts BuildOptions) string {
	t.Helper()
	opts.OutDir = filepath.Join(t.TempDir(), "fresh")
	build(t, r, opts)
	got := tree(t, out)
	for rel := range retiredFiles(out) {
		delete(got, rel)
	}
	return cmp.Diff(tree(t, opts.OutDir), got)
}

// restoreCopy copies the repository directory dir as a CI cache restore
// would (cp -a: content, hard links and times kept, every inode new) to
// dst and opens the copy.
func restoreCopy(t *testing.T, dir, dst string) *Repo {
	t.Helper()
	if out, err := exec.Command("cp", "-a", dir, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v\n%s", err, out)
	}
	r, err := Open(context.Background(), dst)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
