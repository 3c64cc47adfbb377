package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// s3Like answers 403 for every missing file, as S3 and CloudFront do
// without list permission, and requires a bearer token.
func s3Like(dir string, hits *atomic.Int32) http.Handler {
	fs := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(r.URL.Path))); err != nil {
			http.Error(w, "AccessDenied", http.StatusForbidden)
			return
		}
		fs.ServeHTTP(w, r)
	})
}

func TestS3ForbiddenRootProbe(t *testing.T) {
	f := demo(t)
	var hits atomic.Int32
	srv := httptest.NewServer(s3Like(f.Dir, &hits))
	defer srv.Close()
	ctx := context.Background()
	c := newTestClient(t, srv.URL, f.RootBytes(), func(o *Options) {
		o.Header = http.Header{"Authorization": {"Bearer s3cret"}}
	})
	if _, err := c.Resolve(ctx, "ratelimiting", "latest", "jammy"); err != nil {
		t.Fatalf("refresh against a host answering 403 for 2.root.json: %v", err)
	}
	// Without the token the 401 is an error, not "no newer root".
	c2 := newTestClient(t, srv.URL, f.RootBytes())
	err := c2.Refresh(ctx)
	var he *metadata.ErrDownloadHTTP
	if !errors.As(err, &he) || he.StatusCode != http.StatusUnauthorized {
		t.Errorf("without token: got %v, want ErrDownloadHTTP 401", err)
	}
	// 403 on anything but a root probe stays 403.
	fe := NewFetcher(FetcherOptions{Header: http.Header{"Authorization": {"Bearer s3cret"}}})
	_, err = fe.Download(ctx, srv.URL+"/metadata/timestamp.json.missing", 100)
	if !errors.As(err, &he) || he.StatusCode != http.StatusForbidden {
		t.Errorf("403 on a non-root file: got %v", err)
	}
}

func TestFetcherRetries(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/flaky":
			if n.Add(1) < 3 {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			w.Write([]byte("ok"))
		case "/throttled":
			if n.Add(1) < 2 {
				http.Error(w, "slow down", http.StatusTooManyRequests)
				return
			}
			w.Write([]byte("ok"))
		case "/denied":
			n.Add(1)
			http.Error(w, "no", http.StatusForbidden)
		case "/gone":
			n.Add(1)
			http.NotFound(w, r)
		case "/lying":
			w.Header().Set("Content-Length", "1000000")
			w.Write([]byte("x"))
		case "/slow":
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	fe := NewFetcher(FetcherOptions{Retries: 3, Backoff: time.Millisecond})

	b, err := fe.Download(ctx, srv.URL+"/flaky", 10)
	if err != nil || string(b) != "ok" || n.Load() != 3 {
		t.Errorf("5xx retried: got %q, %v after %d tries, want ok after 3", b, err, n.Load())
	}
	n.Store(0)
	b, err = fe.Download(ctx, srv.URL+"/throttled", 10)
	if err != nil || string(b) != "ok" || n.Load() != 2 {
		t.Errorf("429 retried: got %q, %v after %d tries, want ok after 2", b, err, n.Load())
	}
	n.Store(0)
	_, err = fe.Download(ctx, srv.URL+"/denied", 10)
	if n.Load() != 1 {
		t.Errorf("403 tried %d times, want 1 (never retried): %v", n.Load(), err)
	}
	n.Store(0)
	_, err = fe.Download(ctx, srv.URL+"/gone", 10)
	var he *metadata.ErrDownloadHTTP
	if !errors.As(err, &he) || he.StatusCode != 404 || n.Load() != 1 {
		t.Errorf("404: got %v after %d tries, want ErrDownloadHTTP 404 after 1", err, n.Load())
	}
	_, err = fe.Download(ctx, srv.URL+"/lying", 100)
	var le *metadata.ErrDownloadLengthMismatch
	if !errors.As(err, &le) {
		t.Errorf("Content-Length above the bound: got %v, want ErrDownloadLengthMismatch", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = fe.Download(cctx, srv.URL+"/slow", 10)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: got %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("deadline not honoured: %v", d)
	}
}

func TestFetcherFileURL(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.json"), []byte("0123456789"), 0o644)
	fe := NewFetcher(FetcherOptions{})
	ctx := context.Background()
	if b, err := fe.Download(ctx, "file://"+dir+"/a.json", 10); err != nil || string(b) != "0123456789" {
		t.Errorf("file: %q %v", b, err)
	}
	var le *metadata.ErrDownloadLengthMismatch
	if _, err := fe.Download(ctx, "file://"+dir+"/a.json", 9); !errors.As(err, &le) {
		t.Errorf("file over bound: %v", err)
	}
	var he *metadata.ErrDownloadHTTP
	if _, err := fe.Download(ctx, "file://"+dir+"/2.root.json", 9); !errors.As(err, &he) || he.StatusCode != 404 {
		t.Errorf("missing file: %v, want 404", err)
	}
	if _, err := fe.Download(ctx, "ftp://x/y", 9); err == nil || !strings.Contains(err.Error(), "scheme") {
		t.Errorf("ftp: %v", err)
	}
}

func TestCacheName(t *testing.T) {
	for in, want := range map[string]string{
		"index/all.json":            "index%2Fall.json",
		"rl/1.0.0/jammy/a.tar.gz":   "rl%2F1.0.0%2Fjammy%2Fa.tar.gz",
		"..":                        "%2E%2E",
		".":                         "%2E",
		"":                          "%",
		"../../etc/passwd":          "..%2F..%2Fetc%2Fpasswd",
		"a b?#":                     "a%20b%3F%23",
		"%2E%2E":                    "%252E%252E",
		"path/to/a/target_file.txt": "path%2Fto%2Fa%2Ftarget_file.txt",
	} {
		got := cacheName(in)
		if got != want {
			t.Errorf("cacheName(%q) = %q, want %q", in, got, want)
		}
		if strings.ContainsRune(got, '/') || got == "." || got == ".." || got == "" {
			t.Errorf("cacheName(%q) = %q is not one safe path component", in, got)
		}
	}
}

// headerTransport is a caller's RoundTripper: it authenticates every
// request and counts them.
type headerTransport struct {
	n    atomic.Int32
	next http.RoundTripper
}

func (h *headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	h.n.Add(1)
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer s3cret")
	return h.next.RoundTrip(r)
}

func TestCallerHTTPClient(t *testing.T) {
	f := demo(t)
	var hits atomic.Int32
	srv := httptest.NewServer(s3Like(f.Dir, &hits))
	defer srv.Close()
	tr := &headerTransport{next: http.DefaultTransport}
	c := newTestClient(t, srv.URL, f.RootBytes(), func(o *Options) {
		o.HTTPClient = &http.Client{Transport: tr}
	})
	rel, err := c.Resolve(context.Background(), "ratelimiting", "latest", "jammy")
	if err == nil {
		_, err = c.Fetch(context.Background(), rel, t.TempDir())
	}
	if err != nil {
		t.Fatalf("private repository through the caller's http.Client: %v", err)
	}
	if tr.n.Load() == 0 || tr.n.Load() != hits.Load() {
		t.Errorf("caller's transport made %d requests, server saw %d", tr.n.Load(), hits.Load())
	}
}

// TestFetcherHostileServers: a host that stalls after the headers, one
// that redirects elsewhere, one that answers HTML or damaged JSON for
// metadata: each fails fast with the URL and the cause, and credentials
// never leave the repository's origin.
func TestFetcherHostileServers(t *testing.T) {
	ctx := context.Background()
	t.Run("stall after headers", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(200)
			w.Write([]byte("{"))
			w.(http.Flusher).Flush()
			<-release
		}))
		defer srv.Close()
		defer close(release)
		f := NewFetcher(FetcherOptions{IdleTimeout: 200 * time.Millisecond, Retries: -1})
		start := time.Now()
		_, err := f.Download(ctx, srv.URL+"/metadata/timestamp.json", 1000)
		var fe *FetchError
		var se *stallError
		if !errors.As(err, &fe) || !errors.As(err, &se) || !strings.Contains(err.Error(), srv.URL+"/metadata/timestamp.json") {
			t.Fatalf("err = %v, want a FetchError naming the URL, caused by the stall", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("took %v to give up on a stalled host", d)
		}
	})
	t.Run("request timeout", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(200)
			for {
				select {
				case <-release:
					return
				case <-time.After(20 * time.Millisecond):
					w.Write([]byte(" ")) // a trickle: never idle
					w.(http.Flusher).Flush()
				}
			}
		}))
		defer srv.Close()
		defer close(release)
		f := NewFetcher(FetcherOptions{IdleTimeout: time.Second, RequestTimeout: 300 * time.Millisecond, Retries: -1})
		_, err := f.Download(ctx, srv.URL+"/targets/x.tar.gz", 1<<20)
		if err == nil || !strings.Contains(err.Error(), "no answer within") {
			t.Fatalf("err = %v, want the overall deadline", err)
		}
	})
	t.Run("credentials stay with the origin", func(t *testing.T) {
		var leaked atomic.Int32
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "" || r.Header.Get("X-Token") != "" {
				leaked.Add(1)
			}
			w.Write([]byte("{}"))
		}))
		defer other.Close()
		repo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer s3cret" {
				t.Errorf("the repository's own origin got no credentials")
			}
			http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound) // same host, another port
		}))
		defer repo.Close()
		h := http.Header{"Authorization": {"Bearer s3cret"}, "X-Token": {"t"}}
		f := NewFetcher(FetcherOptions{Header: h, Origin: OriginOf(repo.URL), Retries: -1})
		for range 8 {
			if _, err := f.Download(ctx, repo.URL+"/metadata/timestamp.json", 100); err != nil {
				t.Fatal(err)
			}
			if _, err := f.Download(ctx, other.URL+"/metadata/timestamp.json", 100); err != nil {
				t.Fatal(err)
			}
		}
		if n := leaked.Load(); n != 0 {
			t.Errorf("credentials reached another origin %d of 16 times", n)
		}
	})
	for _, tc := range []struct {
		name, ctype, body, want string
	}{
		{"html", "text/html", "<!doctype html><title>Home</title>", "the host answered HTML, not TUF metadata"},
		{"html without type", "application/octet-stream", "\n  <html>", "the host answered HTML, not TUF metadata"},
		{"damaged", "application/json", `{"signed": {"_type": "targets", `, "not valid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.ctype)
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			u := srv.URL + "/metadata/3.bins-0a.json"
			_, err := NewFetcher(FetcherOptions{Retries: -1}).Download(ctx, u, 1000)
			var me *MetadataError
			if !errors.As(err, &me) || me.URL != u || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a MetadataError for %s saying %q", err, u, tc.want)
			}
		})
	}
}
