package outtree

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebpfrepo/ebpfrepo/internal/buildcache"
	"github.com/google/go-cmp/cmp"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for rel, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGraft: the spare takes the live tree's files and a package's pages
// as links (its own pages of that package go), records them in its
// manifest, and has no manifest on disk until a build records it again;
// a live page that is not a regular file fails it.
func TestGraft(t *testing.T) {
	root := t.TempDir()
	out := filepath.Join(root, "public")
	writeFiles(t, out, map[string]string{
		"targets/index/bb.a.json": "new index",
		"packages/a/index.html":   "new a",
		"packages/a/1.0.0.html":   "new a 1.0.0",
		"packages/b/index.html":   "live b",
		"metadata/timestamp.json": "live",
	})
	dir := filepath.Join(StateDir(out), treePrefix+"spare")
	writeFiles(t, dir, map[string]string{
		"targets/index/aa.a.json": "old index",
		"packages/a/index.html":   "old a",
		"packages/a/0.9.0.html":   "old a 0.9.0",
		"packages/b/index.html":   "spare b",
	})
	id, _ := treeID(dir)
	m := &buildcache.TreeManifest{Files: map[string]string{"targets/index/aa.a.json": "aa"}, Catalogue: map[string]string{"a": "old", "b": "b"}}
	if err := buildcache.WriteManifest(manifestPath(out, id), m); err != nil {
		t.Fatal(err)
	}
	sp := Peek(out)
	if sp == nil {
		t.Fatal("no spare")
	}
	if err := sp.Graft(out, Graft{Files: map[string]string{"targets/index/bb.a.json": "bb"}, Pages: map[string]string{"a": "new"}}); err != nil {
		t.Fatal(err)
	}
	if Peek(out) != nil {
		t.Error("the grafted spare still has its manifest on disk")
	}
	want := &buildcache.TreeManifest{Files: map[string]string{"targets/index/aa.a.json": "aa", "targets/index/bb.a.json": "bb"}, Catalogue: map[string]string{"a": "new", "b": "b"}}
	if diff := cmp.Diff(want, sp.Manifest); diff != "" {
		t.Errorf("manifest (-want +got):\n%s", diff)
	}
	for rel, body := range map[string]string{
		"targets/index/bb.a.json": "new index",
		"packages/a/index.html":   "new a",
		"packages/a/1.0.0.html":   "new a 1.0.0",
		"packages/b/index.html":   "spare b",
	} {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if b, err := os.ReadFile(p); err != nil || string(b) != body {
			t.Errorf("%s: %q, %v; want %q", rel, b, err, body)
		}
		if strings.Contains(body, "new") && !sameFile(t, p, filepath.Join(out, filepath.FromSlash(rel))) {
			t.Errorf("%s: not a link to the live file", rel)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "packages/a/0.9.0.html")); !os.IsNotExist(err) {
		t.Errorf("the spare's own page of the grafted package is still there: %v", err)
	}

	os.Symlink("index.html", filepath.Join(out, "packages/b/evil.html"))
	if err := sp.Graft(out, Graft{Pages: map[string]string{"b": "x"}}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a symlink among the live pages: %v, want refused", err)
	}
	for _, bad := range []string{"..", "a/b", ""} {
		if err := sp.Graft(out, Graft{Pages: map[string]string{bad: "x"}}); err == nil {
			t.Errorf("package name %q: grafted", bad)
		}
	}
	if err := sp.Graft(out, Graft{Files: map[string]string{"../keys/root.pem": "x"}}); err == nil {
		t.Error("a path outside the TUF tree: grafted")
	}
}

func sameFile(t *testing.T, a, b string) bool {
	t.Helper()
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}
