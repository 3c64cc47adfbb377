package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ebpfrepo/ebpfrepo/internal/testpkgs"
	"github.com/ebpfrepo/ebpfrepo/repo"
)

// Built is a repository built from the example packages.
type Built struct {
	Repo     *repo.Repo
	Dir      string    // REPO_DIR
	Out      string    // the published output (metadata/, targets/, l3afd/, catalogue)
	RootPath string    // Out/metadata/1.root.json: the root a consumer pins
	Root     []byte    // its content
	Now      time.Time // the clock of the build
	Result   *repo.BuildResult
}

// Build initialises a repository in a temporary directory, adds the
// example packages (every one of testpkgs.Good(), or those whose
// directory names are given) and builds it. now is the build's clock
// (zero: the current time, truncated to seconds).
func Build(t testing.TB, now time.Time, pkgs ...string) *Built {
	t.Helper()
	ctx := context.Background()
	if now.IsZero() {
		now = time.Now().UTC().Truncate(time.Second)
	}
	dir := filepath.Join(t.TempDir(), "repo")
	if err := repo.Init(ctx, dir, repo.InitOptions{Name: "e2e", Description: "end-to-end test repository", Now: now}); err != nil {
		t.Fatalf("init: %v", err)
	}
	r, err := repo.Open(ctx, dir)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	var paths []string
	if len(pkgs) == 0 {
		paths = testpkgs.Good()
	}
	for _, p := range pkgs {
		paths = append(paths, testpkgs.Dir(p))
	}
	if _, err := r.Add(ctx, paths, repo.AddOptions{Now: now}); err != nil {
		t.Fatalf("add: %v", err)
	}
	b := &Built{Repo: r, Dir: dir, Out: filepath.Join(dir, "public"), Now: now}
	b.Rebuild(t, now)
	b.RootPath = filepath.Join(b.Out, "metadata", "1.root.json")
	if b.Root, err = os.ReadFile(b.RootPath); err != nil {
		t.Fatalf("pinned root: %v", err)
	}
	return b
}

// Rebuild builds the repository again into Out with clock now.
func (b *Built) Rebuild(t testing.TB, now time.Time) *repo.BuildResult {
	t.Helper()
	res, err := b.Repo.Build(context.Background(), repo.BuildOptions{OutDir: b.Out, Now: now})
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	b.Result = res
	return res
}

// Counter counts the requests a server answered and the body bytes it
// sent, by path.
type Counter struct {
	mu       sync.Mutex
	Requests []string // "<status> <path>"
	Bytes    int64
}

// Reset returns what was counted and starts again.
func (c *Counter) Reset() (requests []string, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	requests, bytes = c.Requests, c.Bytes
	c.Requests, c.Bytes = nil, 0
	return
}

type countingWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *countingWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

// Server serves dir under prefix (such as "/repo/") on 127.0.0.1, as a
// static host would: files only, 404 for anything missing. Wrap, when
// set, sees every request first (tests use it to attack).
type Server struct {
	*httptest.Server
	URL     string // base URL of the repository: server URL + prefix
	Counter Counter
	mu      sync.Mutex
	wrap    func(http.Handler) http.Handler
}

// Serve starts a Server for dir under prefix.
func Serve(t testing.TB, dir, prefix string) *Server {
	t.Helper()
	s := &Server{}
	if prefix = strings.Trim(prefix, "/"); prefix != "" {
		prefix = "/" + prefix
	}
	prefix += "/"
	strip := http.StripPrefix(strings.TrimSuffix(prefix, "/"), http.FileServer(noDirs{http.Dir(dir)}))
	files := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, prefix) {
			http.NotFound(w, r)
			return
		}
		strip.ServeHTTP(w, r)
	})
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &countingWriter{ResponseWriter: w}
		s.mu.Lock()
		wrap := s.wrap
		s.mu.Unlock()
		var h http.Handler = files
		if wrap != nil {
			h = wrap(files)
		}
		h.ServeHTTP(cw, r)
		s.Counter.mu.Lock()
		s.Counter.Requests = append(s.Counter.Requests, http.StatusText(cw.status)+" "+r.URL.Path)
		s.Counter.Bytes += cw.n
		s.Counter.mu.Unlock()
	}))
	t.Cleanup(s.Server.Close)
	s.URL = s.Server.URL + strings.TrimSuffix(prefix, "/")
	return s
}

// Wrap sets (or with nil clears) the middleware every request goes
// through.
func (s *Server) Wrap(w func(http.Handler) http.Handler) {
	s.mu.Lock()
	s.wrap = w
	s.mu.Unlock()
}

// noDirs hides directory listings: a directory is "not found", as on S3.
type noDirs struct{ fs http.FileSystem }

func (n noDirs) Open(name string) (http.File, error) {
	f, err := n.fs.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || st.IsDir() {
		f.Close()
		return nil, os.ErrNotExist
	}
	return f, nil
}
