package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebpfrepo/ebpfrepo/internal/testpkgs"
)

// TestMaintainerCommands runs the maintainer's job through the CLI:
// init, add, build --json, yank, timestamp, keys rotate, then get from
// the served output.
func TestMaintainerCommands(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	dir := filepath.Join(t.TempDir(), "repo")
	if _, stderr, code := runCmd(t, "init", dir, "--name", "cli-repo"); code != 0 {
		t.Fatalf("init: exit %d: %s", code, stderr)
	}
	if _, _, code := runCmd(t, "init", dir); code != 1 {
		t.Errorf("second init: exit %d, want 1", code)
	}
	art := testpkgs.Pack(t, testpkgs.Dir("tc-stats"))
	stdout, stderr, code := runCmd(t, "--json", "add", "--repo", dir, art, testpkgs.Dir("xdp-root"))
	if code != 0 {
		t.Fatalf("add: exit %d: %s", code, stderr)
	}
	var added []struct{ Name, Version string }
	if err := json.Unmarshal([]byte(stdout), &added); err != nil || len(added) != 2 {
		t.Fatalf("add --json: %v %q", err, stdout)
	}
	// An invalid package: exit 1, every problem listed.
	_, stderr, code = runCmd(t, "add", "--repo", dir, filepath.Join(testpkgs.Root(), "bad", "missing-readme"))
	if code != 1 || !strings.Contains(stderr, "missing-readme") {
		t.Errorf("add of a bad package: exit %d: %s", code, stderr)
	}
	stdout, stderr, code = runCmd(t, "--json", "build", "--repo", dir)
	if code != 0 {
		t.Fatalf("build: exit %d: %s", code, stderr)
	}
	var res struct {
		Packages int `json:"packages"`
		Versions int `json:"versions"`
		Phases   []struct {
			Name string `json:"name"`
		} `json:"phases"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Packages != 2 || len(res.Phases) == 0 {
		t.Fatalf("build --json: %v %q", err, stdout)
	}
	if _, stderr, code := runCmd(t, "yank", "--repo", dir, "tc-stats@0.0.0"); code != 2 {
		t.Errorf("yank without --reason: exit %d, want 2 (%s)", code, stderr)
	}
	ver := added[0].Version
	if added[0].Name != "tc-stats" {
		ver = added[1].Version
	}
	if _, stderr, code := runCmd(t, "yank", "--repo", dir, "tc-stats@"+ver, "--reason", "broken"); code != 0 {
		t.Errorf("yank: exit %d: %s", code, stderr)
	}
	if _, stderr, code := runCmd(t, "keys", "rotate", "--repo", dir, "--role", "snapshot"); code != 0 {
		t.Errorf("keys rotate: exit %d: %s", code, stderr)
	}
	if _, stderr, code := runCmd(t, "keys", "rotate", "--repo", dir, "--role", "nobody"); code == 0 {
		t.Errorf("keys rotate of an unknown role succeeded: %s", stderr)
	}
	if _, stderr, code := runCmd(t, "build", "--repo", dir); code != 0 {
		t.Fatalf("second build: exit %d: %s", code, stderr)
	}
	if _, stderr, code := runCmd(t, "timestamp", "--repo", dir); code != 0 {
		t.Errorf("timestamp: exit %d: %s", code, stderr)
	}
	// --json on the commands that change the repository.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--json", "timestamp", "--repo", dir}, `"resigned": [`},
		{[]string{"--json", "yank", "--repo", dir, "tc-stats@" + ver, "--undo"}, `"yanked": false`},
		{[]string{"--json", "keys", "rotate", "--repo", dir, "--role", "timestamp"}, `"rotated": "timestamp"`},
	} {
		stdout, stderr, code := runCmd(t, tc.args...)
		if code != 0 || !strings.Contains(stdout, tc.want) || !json.Valid([]byte(stdout)) {
			t.Errorf("%v: exit %d, stdout %q (want JSON with %s), stderr %s", tc.args, code, stdout, tc.want, stderr)
		}
	}
	if _, _, code := runCmd(t, "build"); code != 2 {
		t.Errorf("build without --repo: exit %d, want 2", code)
	}

	// Serve it and get a package through TUF.
	out := filepath.Join(dir, "public")
	srv := httptest.NewServer(serveHandler(out))
	defer srv.Close()
	dl := t.TempDir()
	stdout, stderr, code = runCmd(t, "get", "--repo", srv.URL, "--root", filepath.Join(out, "metadata", "1.root.json"),
		"--cache", t.TempDir(), "--platform", "jammy", "-o", dl, "xdp-root")
	if code != 0 {
		t.Fatalf("get: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(strings.TrimSpace(stdout)); err != nil {
		t.Error(err)
	}
}

func TestServeContentTypes(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"metadata/timestamp.json", "metadata/1.root.json", "targets/a/b.tar.gz", "index.html"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), []byte("{}"), 0o644)
	}
	srv := httptest.NewServer(serveHandler(dir))
	defer srv.Close()
	for _, tc := range []struct{ path, ctype, cache string }{
		{"/metadata/timestamp.json", "application/json", "no-cache"},
		{"/metadata/1.root.json", "application/json", "immutable"},
		{"/targets/a/b.tar.gz", "application/gzip", "immutable"},
		{"/index.html", "text/html", ""},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := http.Get(srv.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 && tc.path != "/index.html" {
				t.Errorf("status %d", resp.StatusCode)
			}
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.ctype) {
				t.Errorf("content type %q, want %q", resp.Header.Get("Content-Type"), tc.ctype)
			}
			if !strings.Contains(resp.Header.Get("Cache-Control"), tc.cache) {
				t.Errorf("cache-control %q, want %q", resp.Header.Get("Cache-Control"), tc.cache)
			}
		})
	}
	resp, err := http.Get(srv.URL + "/metadata/2.root.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("missing file: %d, want 404", resp.StatusCode)
	}
}

func TestServeRefusesRepositoryDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "r")
	if _, _, code := runCmd(t, "init", dir); code != 0 {
		t.Fatal("init failed")
	}
	for _, d := range []string{dir, t.TempDir()} {
		_, errOut, code := runCmd(t, "serve", d, "--addr", "127.0.0.1:0")
		if code != 2 || !(strings.Contains(errOut, "repository directory") || strings.Contains(errOut, "not a build output")) {
			t.Errorf("serve %s: exit %d, %q; want a refusal", d, code, errOut)
		}
	}
}
