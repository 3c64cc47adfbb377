package main

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ebpfrepo/ebpfrepo/client/clienttest"
)

func TestProtocol(t *testing.T) {
	r := clienttest.Demo(t)
	var mu sync.Mutex
	var requests []string
	srv := r.Serve(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			mu.Lock()
			requests = append(requests, req.URL.Path)
			mu.Unlock()
			next.ServeHTTP(w, req)
		})
	})
	taken := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := requests
		requests = nil
		return out
	}
	ctx := context.Background()
	tmp := t.TempDir()
	md, td := filepath.Join(tmp, "metadata"), filepath.Join(tmp, "targets")
	rootFile := filepath.Join(tmp, "initial_root.json")
	os.WriteFile(rootFile, r.RootBytes(), 0o644)
	var stderr bytes.Buffer
	cli := func(args ...string) int {
		stderr.Reset()
		return run(ctx, args, &stderr)
	}
	mdURL, tURL := srv.URL+"/metadata", srv.URL+"/targets"

	if code := cli("--metadata-dir", md, "init", rootFile); code != 0 {
		t.Fatalf("init: %d %s", code, stderr.String())
	}
	if got := taken(); len(got) != 0 {
		t.Errorf("init made requests: %v", got)
	}
	if code := cli("--metadata-dir", md, "--metadata-url", mdURL, "refresh"); code != 0 {
		t.Fatalf("refresh: %d %s", code, stderr.String())
	}
	ents, _ := os.ReadDir(md)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if want := "root.json snapshot.json targets.json timestamp.json"; strings.Join(names, " ") != want {
		t.Errorf("metadata dir holds %v, want %s (non-versioned names)", names, want)
	}
	target := "ratelimiting/1.1.0/jammy/l3af_ratelimiting.tar.gz"
	download := func() int {
		return cli("--metadata-dir", md, "--metadata-url", mdURL, "--target-name", target, "--target-base-url", tURL, "--target-dir", td, "download")
	}
	taken()
	if code := download(); code != 0 {
		t.Fatalf("download: %d %s", code, stderr.String())
	}
	got, err := os.ReadFile(filepath.Join(td, url.PathEscape(target)))
	if err != nil || !bytes.Equal(got, r.Files[target]) {
		t.Fatalf("downloaded target: %v", err)
	}
	hit := func(reqs []string) bool {
		for _, p := range reqs {
			if strings.HasSuffix(p, ".l3af_ratelimiting.tar.gz") {
				return true
			}
		}
		return false
	}
	if !hit(taken()) {
		t.Error("first download did not fetch the artifact")
	}
	if code := download(); code != 0 {
		t.Fatalf("second download: %d %s", code, stderr.String())
	}
	if hit(taken()) {
		t.Error("second download fetched the artifact again despite a verified cached copy")
	}

	// A tampered target fails with exit 1 and is not stored.
	other := "ratelimiting/1.0.0/jammy/l3af_ratelimiting.tar.gz"
	r.Write(r.TargetFile(other), []byte("evil"))
	code := cli("--metadata-dir", md, "--metadata-url", mdURL, "--target-name", other, "--target-base-url", tURL, "--target-dir", td, "download")
	if code != 1 {
		t.Errorf("tampered download: exit %d, want 1", code)
	}
	if _, err := os.Stat(filepath.Join(td, url.PathEscape(other))); err == nil {
		t.Error("tampered target stored")
	}
	if code := cli("--metadata-dir", md, "--metadata-url", mdURL, "frobnicate"); code != 1 {
		t.Errorf("unknown command: exit %d", code)
	}
}
