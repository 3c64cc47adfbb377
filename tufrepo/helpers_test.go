package tufrepo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/theupdateframework/go-tuf/v2/metadata/config"
	"github.com/theupdateframework/go-tuf/v2/metadata/updater"
)

// testKeys caches generated keys so that tests stay fast.
var (
	testKeysOnce sync.Once
	testKeyPool  []*Key
)

func poolKey(t testing.TB, i int) *Key {
	t.Helper()
	testKeysOnce.Do(func() {
		for range 16 {
			k, err := GenerateKey()
			if err != nil {
				panic(err)
			}
			testKeyPool = append(testKeyPool, k)
		}
	})
	return testKeyPool[i]
}

// newKeyring returns a keyring with distinct keys for every role and
// rootKeys root keys.
func newKeyring(t testing.TB, rootKeys int) *Keyring {
	t.Helper()
	kr := NewKeyring()
	i := 0
	for _, role := range KeyRoles {
		n := 1
		if role == RoleRoot {
			n = rootKeys
		}
		for range n {
			kr.Add(role, poolKey(t, i))
			i++
		}
	}
	return kr
}

// site is a published tree: metadata and target files.
type site struct {
	mu    sync.Mutex
	files map[string][]byte
}

func newSite() *site { return &site{files: map[string][]byte{}} }

// publish puts the repository's metadata and the targets (at their
// hash-prefixed names) into the site, as a build would.
func (s *site) publish(r *Repo, data map[string][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.files {
		if strings.HasPrefix(k, "metadata/") {
			delete(s.files, k)
		}
	}
	files, err := r.Files()
	if err != nil {
		panic(err) // a test helper without a t: the files Save just wrote
	}
	for k, v := range files {
		s.files[k] = v
	}
	for p, b := range data {
		sum := sha256.Sum256(b)
		s.files[layout.Target(p, hex.EncodeToString(sum[:]))] = b
	}
}

func (s *site) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	s.mu.Lock()
	b, ok := s.files[strings.TrimPrefix(req.URL.Path, "/")]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, req)
		return
	}
	w.Write(b)
}

func (s *site) serve(t testing.TB) *httptest.Server {
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv
}

// tufClient is a go-tuf client with a persistent local cache.
type tufClient struct {
	t       testing.TB
	srv     *httptest.Server
	metaDir string
	tgtDir  string
	now     time.Time
}

func newClient(t testing.TB, srv *httptest.Server, root1 []byte, now time.Time) *tufClient {
	t.Helper()
	c := &tufClient{t: t, srv: srv, metaDir: t.TempDir(), tgtDir: t.TempDir(), now: now}
	if err := os.WriteFile(filepath.Join(c.metaDir, "root.json"), root1, 0o644); err != nil {
		t.Fatal(err)
	}
	return c
}

// refresh builds a new updater from the cached root and refreshes.
func (c *tufClient) refresh() (*updater.Updater, error) {
	root, err := os.ReadFile(filepath.Join(c.metaDir, "root.json"))
	if err != nil {
		return nil, err
	}
	cfg, err := config.New(c.srv.URL+"/metadata/", root)
	if err != nil {
		return nil, err
	}
	cfg.RemoteTargetsURL = c.srv.URL + "/targets/"
	cfg.LocalMetadataDir = c.metaDir
	cfg.LocalTargetsDir = c.tgtDir
	cfg.PrefixTargetsWithHash = true
	if err := cfg.SetDefaultFetcherHTTPClient(c.srv.Client()); err != nil {
		return nil, err
	}
	up, err := updater.New(cfg)
	if err != nil {
		return nil, err
	}
	up.UnsafeSetRefTime(c.now)
	if err := up.Refresh(); err != nil {
		return nil, err
	}
	return up, nil
}

// makeTargets returns n targets with distinct contents, paths laid out
// like ebpfrepo's artifacts and index files.
func makeTargets(n int, salt string) ([]Target, map[string][]byte) {
	ts := make([]Target, 0, n)
	data := make(map[string][]byte, n)
	for i := range n {
		p := fmt.Sprintf("pkg%d/1.%d.0/jammy/l3af_pkg%d.tar.gz", i/3, i%3, i/3)
		if i%5 == 0 {
			p = fmt.Sprintf("index/pkg%d-%d.json", i/3, i)
		}
		b := []byte(fmt.Sprintf("content of %s %s", p, salt))
		data[p] = b
		ts = append(ts, targetOf(p, b))
	}
	return ts, data
}

func targetOf(p string, b []byte) Target {
	sum := sha256.Sum256(b)
	return Target{Path: p, Length: int64(len(b)), SHA256: hex.EncodeToString(sum[:])}
}

// testNow is a fixed time with a fractional second.
var testNow = time.Date(2026, 11, 25, 12, 0, 0, 123456789, time.FixedZone("CET", 3600))

// updatedRepo returns a repository with a one-key keyring, initialised
// and updated at testNow with n targets from makeTargets(n, "v1"), and
// those targets' contents.
func updatedRepo(t testing.TB, n int) (*Repo, *Keyring, []Target, map[string][]byte) {
	t.Helper()
	kr := newKeyring(t, 1)
	r, err := Init(Options{Keys: kr, Config: Config{}, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	targets, data := makeTargets(n, "v1")
	if _, err := r.with(kr, Config{}, testNow).Update(context.Background(), targets); err != nil {
		t.Fatal(err)
	}
	return r, kr, targets, data
}

// with sets what r signs with, as Options given to Init or Load would,
// and returns r: tests change keys, configuration and clock between calls.
func (r *Repo) with(kr *Keyring, cfg Config, now time.Time) *Repo {
	r.opts = Options{Keys: kr, Config: cfg, Now: now}
	return r
}

// withKeys changes only the keys and the clock.
func (r *Repo) withKeys(kr *Keyring, now time.Time) *Repo {
	r.opts.Keys, r.opts.Now = kr, now
	return r
}

// at changes only the configuration and the clock.
func (r *Repo) at(cfg Config, now time.Time) *Repo {
	r.opts.Config, r.opts.Now = cfg, now
	return r
}

// filesOf is r.Files, failing t on an error.
func filesOf(t testing.TB, r *Repo) map[string][]byte {
	t.Helper()
	m, err := r.Files()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// metaFilesOf is filesOf by file name in metadata/.
func metaFilesOf(t testing.TB, r *Repo) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	for k, v := range filesOf(t, r) {
		m[strings.TrimPrefix(k, MetadataDir+"/")] = v
	}
	return m
}

// binBytes is b.bytes, failing t on an error.
func binBytes(t testing.TB, b binMeta) []byte {
	t.Helper()
	raw, err := b.bytes()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
