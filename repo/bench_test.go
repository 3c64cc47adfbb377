package repo

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

// benchRepo is a repository holding the good example packages.
func benchRepo(b *testing.B) *Repo {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "repo")
	ctx := context.Background()
	if err := Init(ctx, dir, InitOptions{Now: t0}); err != nil {
		b.Fatal(err)
	}
	r, err := Open(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	var paths []string
	for _, n := range goodPackages {
		paths = append(paths, filepath.Join("..", "testdata", "packages", n))
	}
	if _, err := r.Add(ctx, paths, AddOptions{Now: t0}); err != nil {
		b.Fatal(err)
	}
	return r
}

// BenchmarkBuildCold measures a build that hashes and validates every
// artifact (caches removed each time).
func BenchmarkBuildCold(b *testing.B) {
	r := benchRepo(b)
	ctx := context.Background()
	for b.Loop() {
		os.RemoveAll(filepath.Join(r.Dir, layout.CacheDir))
		if _, err := r.Build(ctx, BuildOptions{Now: t0}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildWarm measures a no-change rebuild (everything cached,
// nothing re-signed).
func BenchmarkBuildWarm(b *testing.B) {
	r := benchRepo(b)
	ctx := context.Background()
	if _, err := r.Build(ctx, BuildOptions{Now: t0}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := r.Build(ctx, BuildOptions{Now: t0}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHashValidate measures reading, hashing and describing one
// artifact: the per-artifact work of a cold build.
func BenchmarkHashValidate(b *testing.B) {
	r := benchRepo(b)
	items, err := r.scan()
	if err != nil || len(items) == 0 {
		b.Fatal(err)
	}
	ctx := context.Background()
	var n int64
	for b.Loop() {
		for _, it := range items {
			data, _, err := readArtifact(it.file(), pkgfmt.Limits{})
			if err != nil {
				b.Fatal(err)
			}
			n += int64(len(data))
			describeBytes(ctx, it.file(), data, pkgfmt.LintOptions{})
		}
	}
	b.SetBytes(n / int64(b.N))
}

// BenchmarkBuildOneChanged measures a rebuild after one package changed
// (a version yanked or un-yanked in turn): the package cache and the
// reused output tree make it proportional to that package, plus the
// per-repository work (listing, signing, home page).
func BenchmarkBuildOneChanged(b *testing.B) {
	r := benchRepo(b)
	ctx := context.Background()
	for range 2 { // a spare tree with its manifest
		if _, err := r.Build(ctx, BuildOptions{Now: t0}); err != nil {
			b.Fatal(err)
		}
	}
	undo := false
	for b.Loop() {
		if err := r.Yank(ctx, "ratelimiting", "1.0.0", "benchmark", undo); err != nil {
			b.Fatal(err)
		}
		undo = !undo
		if _, err := r.Build(ctx, BuildOptions{Now: t0}); err != nil {
			b.Fatal(err)
		}
	}
}
