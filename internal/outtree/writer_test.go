package outtree

import (
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
