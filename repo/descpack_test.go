package repo

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ebpfrepo/ebpfrepo/internal/buildcache"
	"github.com/ebpfrepo/ebpfrepo/internal/testpkgs"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

// TestParkedDescription: a validated version's description waits in the
// description cache and comes back as validated; a cache that lost or
// changed it makes the build describe the artifact again, and an
// artifact that changed meanwhile, or a description that does not come
// out the same, stops the build.
func TestParkedDescription(t *testing.T) {
	ctx := context.Background()
	art := testpkgs.Pack(t, testpkgs.Dir("connection-limit"))
	other := testpkgs.Pack(t, testpkgs.Dir("tc-stats"))
	lint := pkgfmt.LintOptions{}
	data, sha, err := readArtifact(art, lint.Limits)
	if err != nil {
		t.Fatal(err)
	}
	want := describeBytes(ctx, art, data, lint)
	raw, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	// What the index gets is the description's JSON decoded (as from the
	// cache in every build): test vector values come back as float64.
	var wantJSON pkgfmt.Description
	if err := json.Unmarshal(raw, &wantJSON); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		flush   bool                                // the cache was flushed before the read
		damage  func(t *testing.T, cacheDir string) // what happens to the cache meanwhile
		swap    bool                                // the artifact is replaced meanwhile
		forget  bool                                // the sha256 the version kept does not match
		wantErr string
	}{
		{name: "read back", flush: true},
		{name: "not flushed", flush: false},
		{name: "cache removed", flush: true, damage: func(t *testing.T, dir string) { os.RemoveAll(dir) }},
		{name: "cache altered", flush: true, damage: alterShards(`"connection_limit.bpf.o"`, `"connection_limiX.bpf.o"`)},
		{name: "artifact replaced", flush: true, damage: func(t *testing.T, dir string) { os.RemoveAll(dir) }, swap: true, wantErr: "changed while the build ran"},
		{name: "described otherwise", flush: true, damage: func(t *testing.T, dir string) { os.RemoveAll(dir) }, forget: true, wantErr: "not described as it was validated"},
		{name: "altered, described otherwise", flush: true, damage: alterShards(`"connection_limit.bpf.o"`, `"connection_limiX.bpf.o"`), forget: true, wantErr: "not described as it was validated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "desc")
			path := filepath.Join(t.TempDir(), filepath.Base(art))
			copyFile(t, art, path)
			descs := buildcache.NewDescriptions(dir)
			if err := descs.PutRaw(sha, false, raw); err != nil {
				t.Fatal(err)
			}
			if tc.flush {
				if err := descs.Flush(); err != nil {
					t.Fatal(err)
				}
			}
			it := &item{name: "connection-limit", root: filepath.Dir(path), rel: filepath.Base(path), sha: sha}
			it.setDesc(want, raw)
			if it.desc.Manifest.Name != want.Manifest.Name || len(it.desc.Manifest.Programs) != 0 {
				t.Fatalf("stub = %+v, want the names only", it.desc.Manifest)
			}
			if tc.damage != nil {
				tc.damage(t, dir)
			}
			if tc.swap {
				copyFile(t, other, path)
			}
			if tc.forget {
				it.descSum[0] ^= 1
			}
			got, err := it.description(ctx, &descStore{descs: descs, lint: lint})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(&wantJSON, got); d != "" {
				t.Errorf("description (-validated +read back):\n%s", d)
			}
			if it.parked || it.desc != nil {
				t.Error("the item still holds its description after handing it out")
			}
		})
	}
}

// alterShards replaces old with new in every shard file of the cache.
func alterShards(old, new string) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		t.Helper()
		files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
		n := 0
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(b, []byte(old)) {
				n++
				if err := os.WriteFile(f, bytes.ReplaceAll(b, []byte(old), []byte(new)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		if n == 0 {
			t.Fatalf("no shard holds %s", old)
		}
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(dst)
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
