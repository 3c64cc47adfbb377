package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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
