package client

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// l3afdExtract extracts an artifact the way l3afd does: by suffix
// (.tar.gz only here), into bpfDir/name/version/; directory entries must
// precede their files (parents are not created); names with ".." are
// rejected; links are not handled. It returns the directory l3afd then
// uses: bpfDir/name/version/<artifact stem>.
func l3afdExtract(bpfDir, name, version, artifact string, data []byte) (string, error) {
	if !strings.HasSuffix(artifact, ".tar.gz") {
		return "", fmt.Errorf("unsupported artifact %s", artifact)
	}
	dest := filepath.Join(bpfDir, name, version)
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return "", err
	}
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return "", err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
		if strings.Contains(h.Name, "..") {
			return "", fmt.Errorf("zip slip: %s", h.Name)
		}
		target := filepath.Join(dest, h.Name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.Mkdir(target, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
				return "", err
			}
		case tar.TypeReg:
			out, err := os.OpenFile(target, os.O_CREATE|os.O_RDWR, os.FileMode(h.Mode))
			if err != nil {
				return "", err // parent directory missing: l3afd fails the same way
			}
			if _, err := io.Copy(out, tr); err != nil {
				out.Close()
				return "", err
			}
			out.Close()
		default:
			return "", fmt.Errorf("unknown type %v in %s", h.Typeflag, h.Name)
		}
	}
	stem, _, _ := strings.Cut(artifact, ".")
	return filepath.Join(dest, stem), nil
}

func TestMirrorExtractsLikeL3afd(t *testing.T) {
	f := demo(t)
	c := newTestClient(t, "file://"+f.Dir, f.RootBytes())
	ctx := context.Background()
	mirror := t.TempDir()
	if _, err := c.Mirror(ctx, mirror, "ratelimiting"); err != nil {
		t.Fatal(err)
	}
	// l3afd with [ebpf-repo] url: file://<mirror> and version "latest".
	u, err := url.JoinPath("file://"+mirror, "ratelimiting", "latest", "jammy", "l3af_ratelimiting.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(u)
	data, err := os.ReadFile(pu.Path)
	if err != nil {
		t.Fatalf("l3afd download %s: %v", u, err)
	}
	bpf := t.TempDir()
	dir, err := l3afdExtract(bpf, "ratelimiting", "latest", "l3af_ratelimiting.tar.gz", data)
	if err != nil {
		t.Fatalf("l3afd extraction: %v", err)
	}
	st, err := os.Stat(filepath.Join(dir, "ratelimiting")) // cmd_start
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm()&0o111 == 0 {
		t.Errorf("cmd_start %s is not executable: %v", "ratelimiting", st.Mode())
	}
	if _, err := os.Stat(filepath.Join(dir, "ratelimiting.bpf.o")); err != nil {
		t.Error(err)
	}
}

func TestProxy(t *testing.T) {
	f := demo(t)
	sw := &swapHandler{}
	repo := f.Serve(sw.middleware)
	c := newTestClient(t, repo.URL, f.RootBytes(), func(o *Options) { o.MaxAge = -1 })
	var logged []int
	px := httptest.NewServer(NewProxy(c, ProxyOptions{Log: func(_ *http.Request, status int, _ error) { logged = append(logged, status) }}))
	defer px.Close()

	get := func(method, name, version, platform, artifact string) (int, string) {
		u, err := url.JoinPath(px.URL, name, version, platform, artifact) // as l3afd builds it
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(method, u, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	art := "l3af_ratelimiting.tar.gz"
	for _, tc := range []struct {
		method, name, version, platform, artifact string
		status                                    int
		body                                      string
	}{
		{"GET", "ratelimiting", "latest", "jammy", art, 200, string(f.Files["ratelimiting/1.1.0/jammy/"+art])},
		{"GET", "ratelimiting", "1.0.0", "noble", art, 200, string(f.Files["ratelimiting/1.0.0/noble/"+art])},
		{"HEAD", "ratelimiting", "latest", "jammy", art, 200, ""},
		{"GET", "nosuch", "latest", "jammy", art, 404, "not in the repository"},
		{"GET", "ratelimiting", "latest", "bookworm", art, 404, "supported: jammy, noble"},
		{"GET", "ratelimiting", "3.0.0", "jammy", art, 404, "no version matches"},
		{"GET", "ratelimiting", "^1.0", "jammy", art, 404, "not found"},
		{"GET", "ratelimiting", "latest", "jammy", "other.tar.gz", 404, "artifact is"},
		{"POST", "ratelimiting", "latest", "jammy", art, 405, ""},
	} {
		status, body := get(tc.method, tc.name, tc.version, tc.platform, tc.artifact)
		if status != tc.status || (tc.status == 200 && body != tc.body) || (tc.status != 200 && !strings.Contains(body, tc.body)) {
			t.Errorf("%s /%s/%s/%s/%s = %d %.80q, want %d %.80q", tc.method, tc.name, tc.version, tc.platform, tc.artifact, status, body, tc.status, tc.body)
		}
	}
	// Tampered bytes on the repository: 502 with the reason, no bytes.
	f.Write(f.TargetFile("ratelimiting/1.0.0/jammy/"+art), []byte("evil"))
	status, body := get("GET", "ratelimiting", "1.0.0", "jammy", art)
	if status != http.StatusBadGateway || !strings.Contains(body, "length") {
		t.Errorf("tampered artifact: %d %q, want 502 with the reason", status, body)
	}
	if len(logged) != 10 {
		t.Errorf("logged %d requests, want 10", len(logged))
	}
}

// TestProxyConcurrent: a stalled upstream transfer holds neither other
// requests nor itself forever: a request for another artifact is answered
// while it stalls, concurrent requests for one artifact share one
// transfer, and the stalled one ends with 504 and the reason.
func TestProxyConcurrent(t *testing.T) {
	f := demo(t)
	art := "l3af_ratelimiting.tar.gz"
	stalled := f.TargetFile("ratelimiting/1.0.0/jammy/" + art)
	release := make(chan struct{})
	defer close(release)
	var transfers atomic.Int32
	repo := f.Serve(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, path.Base(stalled)) && strings.Contains(r.URL.Path, "/1.0.0/jammy/") {
				transfers.Add(1)
				select {
				case <-release:
				case <-r.Context().Done():
				}
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	c := newTestClient(t, repo.URL, f.RootBytes())
	px := httptest.NewServer(NewProxy(c, ProxyOptions{RequestTimeout: 2 * time.Second}))
	defer px.Close()
	get := func(version, platform string) (int, string) {
		res, err := http.Get(px.URL + "/ratelimiting/" + version + "/" + platform + "/" + art)
		if err != nil {
			t.Error(err)
			return 0, ""
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	var wg sync.WaitGroup
	codes := make([]int, 3)
	bodies := make([]string, 3)
	for i := range 3 {
		wg.Add(1)
		go func() { defer wg.Done(); codes[i], bodies[i] = get("1.0.0", "jammy") }()
	}
	time.Sleep(300 * time.Millisecond) // the three are waiting on the stalled transfer
	start := time.Now()
	if code, _ := get("1.1.0", "noble"); code != 200 {
		t.Errorf("another artifact while one stalls: %d", code)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("another artifact took %v while one stalled", d)
	}
	wg.Wait()
	for i := range 3 {
		if codes[i] != http.StatusGatewayTimeout || !strings.Contains(bodies[i], "did not answer within") {
			t.Errorf("stalled request %d: %d %q, want 504 with the reason", i, codes[i], bodies[i])
		}
	}
	if n := transfers.Load(); n != 1 {
		t.Errorf("%d upstream transfers for three concurrent requests of one artifact, want 1", n)
	}
}
