package outtree

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestWriterClaims: what Claim keeps, replaces and adds, what Finish
// removes, and the manifest Files hands over.
func TestWriterClaims(t *testing.T) {
	dir := t.TempDir()
	old := map[string]string{
		"targets/a/1.0.0/x": "1", // claimed with the same content: stays
		"targets/b/1.0.0/x": "2", // claimed with other content: replaced
		"targets/c/1.0.0/x": "3", // not claimed: removed, with its directories
		"targets/e/1.0.0/x": "5", // listed, but gone from the disk: written again
	}
	for rel := range old {
		if rel == "targets/e/1.0.0/x" {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(old[rel]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w := NewWriter(dir, old)
	for _, tc := range []struct {
		rel, sha string
		keep     bool
	}{
		{"targets/a/1.0.0/x", "1", true},
		{"targets/b/1.0.0/x", "22", false},
		{"targets/d/1.0.0/x", "4", false},
		{"targets/e/1.0.0/x", "5", false},
		{"targets/a/1.0.0/x", "1", true}, // twice: still kept
	} {
		if got := w.Claim(tc.rel, tc.sha); got != tc.keep {
			t.Errorf("Claim(%s, %s) = %v, want %v", tc.rel, tc.sha, got, tc.keep)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "targets/b/1.0.0/x")); !os.IsNotExist(err) {
		t.Errorf("the replaced file is still there (%v): the caller would write into it", err)
	}
	w.Finish()
	if _, err := os.Lstat(filepath.Join(dir, "targets/c")); !os.IsNotExist(err) {
		t.Errorf("the unclaimed file's directories are still there (%v)", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "targets/a/1.0.0/x")); err != nil {
		t.Errorf("the kept file: %v", err)
	}
	if w.Kept() != 2 {
		t.Errorf("Kept() = %d, want 2", w.Kept())
	}
	want := map[string]string{"targets/a/1.0.0/x": "1", "targets/b/1.0.0/x": "22", "targets/d/1.0.0/x": "4", "targets/e/1.0.0/x": "5"}
	if diff := cmp.Diff(want, w.Files()); diff != "" {
		t.Errorf("Files() (-want +got):\n%s", diff)
	}
}

// TestDirMakerBounded: the directories made are all there, the record of
// them never exceeds maxDirsMade, and a directory forgotten (or removed
// behind the record's back after a forget) is made again when asked for.
func TestDirMakerBounded(t *testing.T) {
	root := t.TempDir()
	m := &dirMaker{root: root}
	var dirs []string
	for i := range maxDirsMade + 500 {
		d := filepath.Join(root, "targets", fmt.Sprintf("p%03d", i/10), fmt.Sprint(i%10), "jammy")
		if err := m.mkdirAll(d); err != nil {
			t.Fatal(err)
		}
		if n := len(m.made); n > maxDirsMade {
			t.Fatalf("after %d directories the record holds %d, more than %d", i+1, n, maxDirsMade)
		}
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			t.Fatalf("%s: not made (%v)", d, err)
		}
	}
	m.forget()
	gone := filepath.Join(root, "targets", "p000")
	if err := os.RemoveAll(gone); err != nil {
		t.Fatal(err)
	}
	if err := m.mkdirAll(dirs[0]); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dirs[0]); err != nil || !fi.IsDir() {
		t.Fatalf("%s: not made again after forget (%v)", dirs[0], err)
	}
}
