package repo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ebpfrepo/ebpfrepo/client"
	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/internal/outtree"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/google/go-cmp/cmp"
)

// flipByte changes one byte in the middle of p and puts its modification
// time back: damage that size and mtime do not show.
func flipByte(t *testing.T, p string) {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x20
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(data[len(data)/2:len(data)/2+1], int64(len(data)/2))
	f.Close()
	os.Chtimes(p, fi.ModTime(), fi.ModTime())
}

// TestCorruptedState: damage to what a build reuses — the spare tree, the
// published tree, the artifacts under packages/ — is either repaired or
// refused with the file named, and never published silently.
func TestCorruptedState(t *testing.T) {
	spareFile := func(t *testing.T, r *Repo, glob string) string {
		t.Helper()
		spares, _ := filepath.Glob(filepath.Join(outtree.StateDir(filepath.Join(r.Dir, layout.PublicDir)), "t-*"))
		if len(spares) != 1 {
			t.Fatalf("spare trees: %v", spares)
		}
		m, _ := filepath.Glob(filepath.Join(spares[0], glob))
		if len(m) == 0 {
			t.Fatalf("spare has no %s", glob)
		}
		return m[0]
	}
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, r *Repo) string // returns the file damaged
		refuse bool                               // the build must refuse (else repair)
	}{
		{"spare index file", func(t *testing.T, r *Repo) string {
			p := spareFile(t, r, "targets/index/*.tc-stats.json")
			flipByte(t, p)
			return p
		}, false},
		{"spare metadata file", func(t *testing.T, r *Repo) string {
			p := spareFile(t, r, "metadata/1.targets.json")
			flipByte(t, p)
			return p
		}, false},
		{"published artifact edited (and so its package file)", func(t *testing.T, r *Repo) string {
			m, _ := filepath.Glob(filepath.Join(r.Dir, layout.PublicDir, "l3afd", "tc-stats", "*", "jammy", "*"))
			flipByte(t, m[0])
			return "tc-stats"
		}, true},
		{"bit rot under packages/", func(t *testing.T, r *Repo) string {
			m, _ := filepath.Glob(filepath.Join(r.Dir, layout.PackagesDir, "tc-stats", "*", "*.tar.gz"))
			flipByte(t, m[0])
			return "tc-stats"
		}, true},
		{"bit rot under packages/ in a file older than the build", func(t *testing.T, r *Repo) string {
			// Old enough for the build's background rehash to note what it
			// reads (client.FileHashes), which the check then takes.
			m, _ := filepath.Glob(filepath.Join(r.Dir, layout.PackagesDir, "tc-stats", "*", "*.tar.gz"))
			old := time.Now().Add(-time.Hour)
			os.Chtimes(m[0], old, old)
			build(t, r, BuildOptions{Now: t0.Add(90 * time.Second)}) // the stat cache learns the new mtime
			flipByte(t, m[0])
			return "tc-stats"
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRepo(t)
			addGood(t, r, "tc-stats")
			build(t, r, BuildOptions{Now: t0})
			addGood(t, r, "xdp-root")
			build(t, r, BuildOptions{Now: t0.Add(time.Minute)})
			what := tc.damage(t, r)
			out := filepath.Join(r.Dir, layout.PublicDir)
			before := tree(t, out)
			addGood(t, r, "ratelimiting-1.0.0")
			_, err := r.Build(context.Background(), BuildOptions{Now: t0.Add(2 * time.Minute)})
			if tc.refuse {
				var se *SelfCheckError
				if err == nil || !strings.Contains(err.Error(), what) {
					t.Fatalf("build: %v, want a refusal naming %s", err, what)
				}
				if errors.As(err, &se) && len(se.Problems) == 0 {
					t.Error("a SelfCheckError with no problem listed")
				}
				if diff := cmp.Diff(before, tree(t, out)); diff != "" {
					t.Errorf("a refused build changed the output:\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("build: %v, want the damage repaired", err)
			}
			// What was published reads back as a client reads it.
			root, _ := os.ReadFile(filepath.Join(out, "metadata", "1.root.json"))
			abs, _ := filepath.Abs(out)
			c := newCheckClient(t, "file://"+abs, root)
			if _, err := c.Check(context.Background()); err != nil {
				t.Errorf("the repaired output does not check: %v", err)
			}
		})
	}
}

// TestForgedDescriptionCache: a description cache entry altered behind
// the build's back (here: another package name) is not blamed on the
// package: the build describes the artifact again and says why.
func TestForgedDescriptionCache(t *testing.T) {
	r := newRepo(t)
	addGood(t, r, "tc-stats")
	build(t, r, BuildOptions{Now: t0})
	shards, _ := filepath.Glob(filepath.Join(r.Dir, layout.CacheDir, "desc", "*.jsonl"))
	forged := 0
	for _, p := range shards {
		data, _ := os.ReadFile(p)
		if strings.Contains(string(data), `"name":"tc-stats"`) {
			os.WriteFile(p, []byte(strings.ReplaceAll(string(data), `"name":"tc-stats"`, `"name":"tc-evil"`)), 0o644)
			forged++
		}
	}
	if forged == 0 {
		t.Fatal("no cache entry to forge")
	}
	// Only the description cache survives: the build must describe.
	ents, _ := os.ReadDir(filepath.Join(r.Dir, layout.CacheDir))
	for _, e := range ents {
		if e.Name() != "desc" {
			os.RemoveAll(filepath.Join(r.Dir, layout.CacheDir, e.Name()))
		}
	}
	os.RemoveAll(outtree.StateDir(filepath.Join(r.Dir, layout.PublicDir)))
	res, err := r.Build(context.Background(), BuildOptions{Now: t0.Add(time.Minute)})
	if err != nil {
		t.Fatalf("build with a forged cache entry: %v", err)
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "build cache") {
		t.Errorf("notes %q: want the cache named", res.Notes)
	}
}

// TestCheckKnownPackages: the check by bytes of a package known from an
// earlier check is not a pass-through: an artifact whose bytes differ from
// what the build holds is a problem, and so is a wrong index file.
func TestCheckKnownPackages(t *testing.T) {
	r := newRepo(t)
	addGood(t, r, "tc-stats")
	build(t, r, BuildOptions{Now: t0})
	out, _ := filepath.Abs(filepath.Join(r.Dir, layout.PublicDir))
	root, _ := os.ReadFile(filepath.Join(out, "metadata", "1.root.json"))
	var p index.Package
	readJSON(t, findTarget(t, out, "index/tc-stats.json"), &p)
	c := newCheckClient(t, "file://"+out, root)
	if _, err := c.CheckWith(context.Background(), client.CheckOptions{Known: map[string]*index.Package{"tc-stats": &p}}); err != nil {
		t.Fatalf("known and intact: %v", err)
	}
	bad := p
	bad.Versions = slices.Clone(p.Versions)
	bad.Versions[0].Artifacts = slices.Clone(p.Versions[0].Artifacts)
	bad.Versions[0].Artifacts[0].SHA256 = strings.Repeat("0", 64)
	_, err := c.CheckWith(context.Background(), client.CheckOptions{Known: map[string]*index.Package{"tc-stats": &bad}})
	var ce *client.CheckError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "sha256") {
		t.Errorf("a known package whose bytes differ: %v, want a CheckError", err)
	}

	// Artifacts Lookup names (those of re-signed bins) go through TUF
	// even for a known package: a record that disagrees with the signed
	// targets is a problem there, before any byte is read.
	looked := 0
	_, err = c.CheckWith(context.Background(), client.CheckOptions{Known: map[string]*index.Package{"tc-stats": &bad},
		Lookup: func(string) bool { looked++; return true }})
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "the signed targets") || looked == 0 {
		t.Errorf("a known package looked up through TUF: %v (%d lookups), want the index/targets disagreement", err, looked)
	}
}

// TestCheckHashes: the files CheckOptions.Hashes holds are not read again
// — a wrong sum there is a problem the check reports — as long as their
// size and mtime are those noted; a file changed since, or noted while
// racily new, is read again.
func TestCheckHashes(t *testing.T) {
	r := newRepo(t)
	addGood(t, r, "tc-stats")
	m, _ := filepath.Glob(filepath.Join(r.Dir, layout.PackagesDir, "tc-stats", "*", "*.tar.gz"))
	art := m[0]
	old := time.Now().Add(-time.Hour)
	os.Chtimes(art, old, old)
	build(t, r, BuildOptions{Now: t0})
	out, _ := filepath.Abs(filepath.Join(r.Dir, layout.PublicDir))
	root, _ := os.ReadFile(filepath.Join(out, "metadata", "1.root.json"))
	c := newCheckClient(t, "file://"+out, root)
	wrong := strings.Repeat("0", 64)
	noted := func(t *testing.T, mtime time.Time) *client.FileHashes {
		t.Helper()
		fi, err := os.Stat(art)
		if err != nil {
			t.Fatal(err)
		}
		h := client.NewFileHashes()
		h.Note(fi, mtime.Add(2*time.Second), wrong)
		return h
	}
	check := func(h *client.FileHashes) error {
		_, err := c.CheckWith(context.Background(), client.CheckOptions{Hashes: h})
		return err
	}

	if err := check(noted(t, old)); err == nil || !strings.Contains(err.Error(), "sha256 "+wrong) {
		t.Errorf("a noted (wrong) sum: %v, want the check to take it and refuse", err)
	}
	h := noted(t, old)
	changed := old.Add(time.Minute)
	os.Chtimes(art, changed, changed)
	if err := check(h); err != nil {
		t.Errorf("a file changed since it was noted is read again: %v", err)
	}
	fi, _ := os.Stat(art)
	racy := client.NewFileHashes()
	racy.Note(fi, fi.ModTime().Add(time.Millisecond), wrong) // read 1 ms after it was written
	if err := check(racy); err != nil {
		t.Errorf("a racily new file is not noted: %v", err)
	}
	hashed := client.NewFileHashes()
	if _, err := hashed.Hash(art); err != nil {
		t.Fatal(err)
	}
	if err := check(hashed); err != nil {
		t.Errorf("a file Hash read: %v", err)
	}
}
