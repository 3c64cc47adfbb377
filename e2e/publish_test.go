package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ebpfrepo/ebpfrepo/client"
	"github.com/ebpfrepo/ebpfrepo/internal/testpkgs"
	"github.com/ebpfrepo/ebpfrepo/repo"
)

// TestReadersDuringBuilds: clients reading the repository while it is
// rebuilt 100 times — versions added, removed, yanked and un-yanked,
// online keys rotated, a grace period short enough that old files go
// during the run — never fail: every get succeeds, either from metadata
// still within the grace period or after one refresh from
// timestamp.json. Half the clients refresh on every get, half hold their
// metadata (MaxAge) as a long-running l3afd would.
func TestReadersDuringBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("100 builds")
	}
	ctx := context.Background()
	t0 := time.Now().UTC().Truncate(time.Second)
	b := Build(t, t0, "ratelimiting-1.0.0", "tc-stats")
	b.Repo.Config.Grace = "6h"
	srv := Serve(t, b.Out, "repo")
	var clock atomic.Int64 // the builds' clock, which the clients share
	clock.Store(t0.Unix())
	now := func() time.Time { return time.Unix(clock.Load(), 0).Add(time.Minute) }

	var stop atomic.Bool
	var gets, failed atomic.Int64
	var mu sync.Mutex
	var firstErr []string
	var wg sync.WaitGroup
	for i := range 6 {
		c := newClient(t, srv.URL, b.Root, func(o *client.Options) {
			o.Now = now
			o.MaxAge = -1
			if i%2 == 1 {
				o.MaxAge = 24 * time.Hour // holds its metadata: a stale snapshot through the builds
			}
		})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				for _, name := range []string{"tc-stats", "ratelimiting"} {
					gets.Add(1)
					_, _, err := c.Get(ctx, name, "", "jammy")
					if err != nil {
						failed.Add(1)
						mu.Lock()
						if len(firstErr) < 5 {
							firstErr = append(firstErr, fmt.Sprintf("%s: %v", name, err))
						}
						mu.Unlock()
					}
				}
			}
		}()
	}
	rl11 := testpkgs.Dir("ratelimiting-1.1.0")
	for i := 1; i <= 100; i++ {
		at := t0.Add(time.Duration(i) * time.Hour)
		switch i % 10 {
		case 1:
			if _, err := b.Repo.Add(ctx, []string{rl11}, repo.AddOptions{Now: at}); err != nil {
				t.Fatal(err)
			}
		case 3:
			if err := b.Repo.Yank(ctx, "ratelimiting", "1.1.0", "test", false); err != nil {
				t.Fatal(err)
			}
		case 5:
			if err := b.Repo.Yank(ctx, "ratelimiting", "1.1.0", "", true); err != nil {
				t.Fatal(err)
			}
		case 7:
			if err := os.RemoveAll(filepath.Join(b.Dir, "packages", "ratelimiting", "1.1.0")); err != nil {
				t.Fatal(err)
			}
		case 9:
			role := []string{"timestamp", "snapshot", "bins"}[(i/10)%3]
			if err := b.Repo.RotateKey(ctx, role, repo.RotateOptions{Now: at}); err != nil {
				t.Fatal(err)
			}
		}
		clock.Store(at.Unix())
		b.Rebuild(t, at)
	}
	stop.Store(true)
	wg.Wait()
	if failed.Load() != 0 || gets.Load() == 0 {
		t.Errorf("%d of %d gets failed; first: %v", failed.Load(), gets.Load(), firstErr)
	}
	t.Logf("%d gets during 100 builds, %d failed", gets.Load(), failed.Load())
}

// TestGetInOneSnapshot: Get looks the artifact up in the snapshot whose
// index it resolved in, not in one refreshed since. A build that removes
// the resolved version lands between the two (here while the index is
// downloaded); a client that refreshes on every call (MaxAge -1) still
// gets the version that index named, whose files the host keeps through
// the grace period, with one refresh. Refreshing again for the lookup
// found the newer build's bins, which no longer list it: a presence
// mismatch, and when builds came faster than a Get, two in a row.
func TestGetInOneSnapshot(t *testing.T) {
	ctx := context.Background()
	t0 := time.Now().UTC().Truncate(time.Second)
	b := Build(t, t0, "ratelimiting-1.0.0", "ratelimiting-1.1.0")
	srv := Serve(t, b.Out, "repo")
	c := newClient(t, srv.URL, b.Root, func(o *client.Options) {
		o.MaxAge = -1
		o.Now = func() time.Time { return t0.Add(2 * time.Hour) }
	})
	var built atomic.Bool
	var buildErr error
	srv.Wrap(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, ".ratelimiting.json") && built.CompareAndSwap(false, true) {
				if buildErr = os.RemoveAll(filepath.Join(b.Dir, "packages", "ratelimiting", "1.1.0")); buildErr == nil {
					_, buildErr = b.Repo.Build(ctx, repo.BuildOptions{OutDir: b.Out, Now: t0.Add(time.Hour)})
				}
			}
			next.ServeHTTP(w, r)
		})
	})
	srv.Counter.Reset()
	rel, data, err := c.Get(ctx, "ratelimiting", "", "jammy")
	requests, _ := srv.Counter.Reset()
	if buildErr != nil || !built.Load() {
		t.Fatalf("the build between resolving and fetching: ran %v, %v", built.Load(), buildErr)
	}
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if rel.Version != "1.1.0" || sha(data) != rel.SHA256 {
		t.Errorf("Get = %s (sha256 %s, index says %s), want 1.1.0, the version its snapshot's index named, verified", rel.Version, sha(data), rel.SHA256)
	}
	var timestamps int
	for _, r := range requests {
		if strings.HasSuffix(r, "/metadata/timestamp.json") {
			timestamps++
		}
	}
	if timestamps != 1 {
		t.Errorf("Get refreshed %d times, want once: %q", timestamps, requests)
	}
	// The next Get refreshes and resolves in the new build.
	if rel, _, err := c.Get(ctx, "ratelimiting", "", "jammy"); err != nil || rel.Version != "1.0.0" {
		t.Errorf("Get after the build = %s, %v; want 1.0.0", rel.Version, err)
	}
}
