package outtree

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ebpfrepo/ebpfrepo/internal/buildcache"
	"github.com/google/go-cmp/cmp"
)

func TestValidManifest(t *testing.T) {
	for _, tc := range []struct {
		rel string
		ok  bool
	}{
		{"targets/a/1.0.0/jammy/ab.x.tar.gz", true},
		{"metadata/timestamp.json", true},
		{"l3afd/a/latest/jammy/x.tar.gz", true},
		{"../keys/root.pem", false},
		{"targets/../../keys/root.pem", false},
		{"targets/a/../b", false},
		{"index.html", false},
		{"/etc/passwd", false},
		{"targets//x", false},
		{`targets\..\x`, false},
	} {
		if got := ValidManifest(map[string]string{tc.rel: "x"}); got != tc.ok {
			t.Errorf("%q: %v, want %v", tc.rel, got, tc.ok)
		}
	}
}

// TestScanLive: ScanLive hands over what LiveTree holds, holds no files
// itself, and refuses the manifests LiveTree refuses.
func TestScanLive(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    *buildcache.TreeManifest
		ok   bool
	}{
		{"valid", &buildcache.TreeManifest{Files: map[string]string{"metadata/timestamp.json": "a", "targets/x/ab.y": "b"}, Retired: map[string]string{"targets/x/ab.y": "12"}}, true},
		{"empty", &buildcache.TreeManifest{Files: map[string]string{}}, true},
		{"path outside the tree", &buildcache.TreeManifest{Files: map[string]string{"metadata/timestamp.json": "a", "../keys/root.pem": "b"}}, false},
		{"retired outside the tree", &buildcache.TreeManifest{Files: map[string]string{"metadata/timestamp.json": "a"}, Retired: map[string]string{"index.html": "1"}}, false},
		{"no files", &buildcache.TreeManifest{}, false},
		{"no manifest", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "public")
			for _, d := range []string{out, StateDir(out)} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if tc.m != nil {
				if err := buildcache.WriteManifest(manifestPath(out, "live"), tc.m); err != nil {
					t.Fatal(err)
				}
			}
			got := map[string]string{}
			live := ScanLive(out, func(rel, sha string) { got[rel] = sha })
			held := LiveTree(out)
			if (live != nil) != tc.ok || (held != nil) != tc.ok {
				t.Fatalf("ScanLive %v, LiveTree %v, want usable %v", live, held, tc.ok)
			}
			if !tc.ok {
				return
			}
			if live.Manifest.Files != nil {
				t.Errorf("ScanLive held the files: %v", live.Manifest.Files)
			}
			if diff := cmp.Diff(held.Manifest.Files, got); diff != "" {
				t.Errorf("ScanLive's files (-LiveTree +ScanLive):\n%s", diff)
			}
			if diff := cmp.Diff(held.Manifest.Retired, live.Manifest.Retired); diff != "" {
				t.Errorf("retired (-LiveTree +ScanLive):\n%s", diff)
			}
		})
	}
}
