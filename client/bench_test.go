package client

import (
	"context"
	"testing"
)

func benchClient(b *testing.B) (*Client, *fixture) {
	f := demo(b)
	srv := f.Serve(nil)
	c, err := New(Options{RepoURL: srv.URL, TrustedRoot: f.RootBytes(), CacheDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	return c, f
}

// BenchmarkFetchCached measures Fetch of an artifact already verified in
// the cache, metadata reused (MaxAge): index lookup, cached-target hash
// check, atomic write with fsync.
func BenchmarkFetchCached(b *testing.B) {
	c, _ := benchClient(b)
	ctx := context.Background()
	dir := b.TempDir()
	rel, err := c.Resolve(ctx, "ratelimiting", "latest", "jammy")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := c.Fetch(ctx, rel, dir); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkColdGet measures a first get against a local HTTP server: a
// full TUF refresh (root probe, timestamp, snapshot, targets, one bin),
// the package index and the artifact.
func BenchmarkColdGet(b *testing.B) {
	f := demo(b)
	srv := f.Serve(nil)
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		c, err := New(Options{RepoURL: srv.URL, TrustedRoot: f.RootBytes(), CacheDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		dir := b.TempDir()
		b.StartTimer()
		rel, err := c.Resolve(ctx, "ratelimiting", "latest", "jammy")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Fetch(ctx, rel, dir); err != nil {
			b.Fatal(err)
		}
	}
}
