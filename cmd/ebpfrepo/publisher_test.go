package main

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebpfrepo/ebpfrepo/internal/testpkgs"
)

// TestPublisherCLI walks the author quickstart of the README through run():
// keygen → publisher add → pack → sign → add --signed → build → get and
// verify with --require publisher.
func TestPublisherCLI(t *testing.T) {
	dir := t.TempDir()
	r := filepath.Join(dir, "repo")
	step := stepper(t)
	step(0, "init", r)
	step(0, "publisher", "keygen", "-o", filepath.Join(dir, "alice"))
	step(0, "publisher", "add", "--repo", r, "acme", "--key", filepath.Join(dir, "alice", "publisher.pub.pem"), "--package", "ratelimiting")
	if out := step(0, "publisher", "list", "--repo", r); !strings.Contains(out, "acme\tratelimiting\t1 of ") {
		t.Errorf("publisher list: %q", out)
	}
	cfg, _ := os.ReadFile(filepath.Join(r, "ebpfrepo.toml"))
	if !strings.Contains(string(cfg), "[[publishers]]") {
		t.Errorf("ebpfrepo.toml does not list the grant:\n%s", cfg)
	}
	dist := filepath.Join(dir, "dist")
	rl := strings.TrimSpace(step(0, "pack", testpkgs.Dir("ratelimiting-1.1.0"), "-o", dist))
	xr := strings.TrimSpace(step(0, "pack", testpkgs.Dir("xdp-root"), "-o", dist))
	if out := step(1, "add", "--repo", r, rl); !strings.Contains(out, "repo.unsigned-claimed") {
		t.Errorf("add of a claimed package without --signed: %q", out)
	}
	step(0, "sign", "--publisher", "acme", "--key", filepath.Join(dir, "alice", "publisher.pem"), "--repo", r, "-o", dir, rl)
	step(0, "add", "--repo", r, "--signed", filepath.Join(dir, "pub-acme.json"), rl, xr)
	step(0, "build", "--repo", r)
	pub := filepath.Join(r, "public")
	srv := httptest.NewServer(serveHandler(pub))
	defer srv.Close()
	root := filepath.Join(pub, "metadata", "1.root.json")
	consumer := func(want int, args ...string) string {
		return step(want, append(args, "--repo", srv.URL, "--root", root, "--cache", t.TempDir())...)
	}
	if out := consumer(0, "get", "--require", "publisher", "--platform", "jammy", "-o", t.TempDir(), "ratelimiting"); !strings.Contains(out, "signed by publisher acme") {
		t.Errorf("get --require publisher: %q", out)
	}
	if out := consumer(1, "get", "--require", "publisher", "--platform", "jammy", "-o", t.TempDir(), "xdp-root"); !strings.Contains(out, "repository-signed only") {
		t.Errorf("get --require publisher of an unclaimed package: %q", out)
	}
	if out := consumer(0, "verify", rl); !strings.Contains(out, "signed by publisher acme") || !strings.Contains(out, "pub-acme") {
		t.Errorf("verify: %q", out)
	}
	tampered := filepath.Join(t.TempDir(), filepath.Base(rl))
	data, _ := os.ReadFile(rl)
	os.WriteFile(tampered, append(data, 0), 0o644)
	if out := consumer(1, "verify", tampered); !strings.Contains(out, "mismatch") {
		t.Errorf("verify of a tampered file: %q", out)
	}
	consumer(1, "verify", "--publisher", "mallory", rl)
	consumer(2, "get", "--require", "kernel-typo", "ratelimiting")
}
