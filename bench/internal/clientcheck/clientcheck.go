package clientcheck

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/ebpfrepo/ebpfrepo/client"
)

// Request is one HTTP exchange the client made.
type Request struct {
	Path   string `json:"path"`
	Status int    `json:"status"`
	Kind   string `json:"kind"`  // "metadata", "index" or "artifact"
	Bytes  int64  `json:"bytes"` // response body bytes read
}

// Traffic is what one client operation cost.
type Traffic struct {
	Requests    int       `json:"requests"`
	Bytes       int64     `json:"bytes"`        // response bodies, all kinds
	HeaderBytes int64     `json:"header_bytes"` // status lines and response headers
	Metadata    int64     `json:"metadata_bytes"`
	Index       int64     `json:"index_bytes"`
	Artifact    int64     `json:"artifact_bytes"`
	Log         []Request `json:"log"`
}

// MetadataAndIndex is the bytes of TUF metadata and index files: what a
// client pays beyond the artifact itself.
func (t Traffic) MetadataAndIndex() int64 { return t.Metadata + t.Index }

// Result is a cold get and a warm check of one package.
type Result struct {
	Package  string  `json:"package"`
	Version  string  `json:"version"`
	Platform string  `json:"platform"`
	Cold     Traffic `json:"cold_get"`
	Warm     Traffic `json:"warm_check"`
}

// Options say what to measure. All fields are required.
type Options struct {
	PublicDir string // the built repository: metadata/, targets/
	Root      []byte // the root metadata to pin
	Name      string // package to get
	Platform  string
}

// Run serves opts.PublicDir and measures a cold get of
// opts.Name@latest for opts.Platform, then a warm check: a new client on
// the same cache refreshes the metadata and resolves the package again.
func Run(ctx context.Context, opts Options) (*Result, error) {
	srv := httptest.NewServer(http.FileServer(http.Dir(opts.PublicDir)))
	defer srv.Close()
	cache, err := os.MkdirTemp("", "ebpfrepo-clientcheck-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(cache)
	res := &Result{Package: opts.Name, Platform: opts.Platform}

	ct := &counter{rt: srv.Client().Transport}
	c, err := client.New(client.Options{RepoURL: srv.URL, TrustedRoot: opts.Root, CacheDir: filepath.Join(cache, "cache"),
		HTTPClient: &http.Client{Transport: ct}, Retries: -1})
	if err != nil {
		return nil, err
	}
	rel, err := c.Resolve(ctx, opts.Name, "latest", opts.Platform)
	if err != nil {
		return nil, fmt.Errorf("cold get: %w", err)
	}
	if _, err := c.Fetch(ctx, rel, filepath.Join(cache, "out")); err != nil {
		return nil, fmt.Errorf("cold get: %w", err)
	}
	res.Version, res.Cold = rel.Version, ct.traffic()

	wt := &counter{rt: srv.Client().Transport}
	w, err := client.New(client.Options{RepoURL: srv.URL, TrustedRoot: opts.Root, CacheDir: filepath.Join(cache, "cache"),
		HTTPClient: &http.Client{Transport: wt}, Retries: -1})
	if err != nil {
		return nil, err
	}
	if err := w.Refresh(ctx); err != nil {
		return nil, fmt.Errorf("warm check: %w", err)
	}
	if _, err := w.Resolve(ctx, opts.Name, "latest", opts.Platform); err != nil {
		return nil, fmt.Errorf("warm check: %w", err)
	}
	res.Warm = wt.traffic()
	return res, nil
}

// counter is an http.RoundTripper that records every exchange.
type counter struct {
	rt  http.RoundTripper
	mu  sync.Mutex
	log []Request
	hdr int64
}

func (c *counter) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := c.rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	head, _ := httputil.DumpResponse(res, false)
	c.mu.Lock()
	c.hdr += int64(len(head))
	c.log = append(c.log, Request{Path: req.URL.Path, Status: res.StatusCode, Kind: kindOf(req.URL.Path)})
	i := len(c.log) - 1
	c.mu.Unlock()
	res.Body = &countBody{ReadCloser: res.Body, add: func(n int) {
		c.mu.Lock()
		c.log[i].Bytes += int64(n)
		c.mu.Unlock()
	}}
	return res, nil
}

func (c *counter) traffic() Traffic {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := Traffic{Requests: len(c.log), HeaderBytes: c.hdr, Log: append([]Request(nil), c.log...)}
	for _, r := range c.log {
		t.Bytes += r.Bytes
		switch r.Kind {
		case "metadata":
			t.Metadata += r.Bytes
		case "index":
			t.Index += r.Bytes
		default:
			t.Artifact += r.Bytes
		}
	}
	return t
}

// kindOf classifies a request path of the published layout.
func kindOf(p string) string {
	switch {
	case strings.Contains(p, "/metadata/"):
		return "metadata"
	case strings.Contains(p, "/targets/index/"):
		return "index"
	}
	return "artifact"
}

type countBody struct {
	io.ReadCloser
	add func(int)
}

func (b *countBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.add(n)
	return n, err
}
