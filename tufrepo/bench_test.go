package tufrepo

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// benchRepo returns a repository holding n targets.
func benchRepo(b *testing.B, n int) (*Repo, *Keyring, []Target) {
	b.Helper()
	kr := newKeyring(b, 1)
	r, err := Init(Options{Keys: kr, Config: Config{}, Now: testNow})
	if err != nil {
		b.Fatal(err)
	}
	targets, _ := makeTargets(n, "v1")
	if _, err := r.with(kr, Config{}, testNow).Update(context.Background(), targets); err != nil {
		b.Fatal(err)
	}
	return r, kr, targets
}

// BenchmarkUpdateFull signs a repository of 10k targets from scratch:
// targets, 256 bins, snapshot, timestamp.
func BenchmarkUpdateFull(b *testing.B) {
	kr := newKeyring(b, 1)
	targets, _ := makeTargets(10000, "v1")
	b.ResetTimer()
	for range b.N {
		r, err := Init(Options{Keys: kr, Config: Config{}, Now: testNow})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.with(kr, Config{}, testNow).Update(context.Background(), targets); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateOneTarget changes one target of 10k: one bin,
// snapshot and timestamp are re-signed.
func BenchmarkUpdateOneTarget(b *testing.B) {
	r, kr, targets := benchRepo(b, 10000)
	b.ResetTimer()
	for i := range b.N {
		targets[42] = targetOf(targets[42].Path, []byte(fmt.Sprint("bytes ", i)))
		res, err := r.with(kr, Config{}, testNow).Update(context.Background(), targets)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Changed) != 3 {
			b.Fatalf("changed %v", res.Changed)
		}
	}
}

// BenchmarkUpdateNoChange is a rebuild of 10k targets with no change.
func BenchmarkUpdateNoChange(b *testing.B) {
	r, kr, targets := benchRepo(b, 10000)
	b.ResetTimer()
	for range b.N {
		if _, err := r.with(kr, Config{}, testNow).Update(context.Background(), targets); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad loads (and verifies) a saved repository of 10k and 30k
// targets (256 and 512 bins; a 10k-version build publishes about 2–3
// targets per version) and reports the live heap the loaded Repo holds
// (live-heap-B).
func BenchmarkLoad(b *testing.B) {
	for _, n := range []int{10000, 30000} {
		b.Run(fmt.Sprintf("targets=%d", n), func(b *testing.B) {
			r, _, _ := benchRepo(b, n)
			dir := b.TempDir()
			if err := r.Save(context.Background(), dir); err != nil {
				b.Fatal(err)
			}
			r = nil
			var live uint64
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				before := heapInUse()
				b.StartTimer()
				l, err := Load(context.Background(), dir, Options{})
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				live = heapInUse() - min(before, heapInUse())
				runtime.KeepAlive(l)
				b.StartTimer()
			}
			b.ReportMetric(float64(live), "live-heap-B")
		})
	}
}

// BenchmarkLoadUpdateOne is a build's use of a 10k-target repository:
// Load, then Update with one target changed, then Files.
func BenchmarkLoadUpdateOne(b *testing.B) {
	r, kr, targets := benchRepo(b, 10000)
	dir := b.TempDir()
	if err := r.Save(context.Background(), dir); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		l, err := Load(context.Background(), dir, Options{})
		if err != nil {
			b.Fatal(err)
		}
		targets[42] = targetOf(targets[42].Path, []byte(fmt.Sprint("bytes ", i)))
		if _, err := l.with(kr, Config{}, testNow).Update(context.Background(), targets); err != nil {
			b.Fatal(err)
		}
		_ = filesOf(b, l)
	}
}

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkSignBin signs one bin of 40 targets.
func BenchmarkSignBin(b *testing.B) {
	md := metadata.Targets(testNow.Add(time.Hour))
	targets, _ := makeTargets(40, "v1")
	for _, t := range targets {
		sum, _ := checkTarget(&t)
		md.Signed.Targets[t.Path] = &metadata.TargetFiles{Length: t.Length, Hashes: metadata.Hashes{"sha256": sum[:]}, Path: t.Path}
	}
	keys := []*Key{poolKey(b, 0)}
	b.ResetTimer()
	for range b.N {
		if _, err := signBytes(md, keys); err != nil {
			b.Fatal(err)
		}
	}
}
