package outtree

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/ebpfrepo/ebpfrepo/internal/buildcache"
)

// writeTree makes a tree whose every file says which generation it is.
func writeTree(t *testing.T, dir, gen string) {
	t.Helper()
	for _, rel := range []string{"metadata/timestamp.json", "targets/a/x.tar.gz", "l3afd/a/x.tar.gz"} {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(gen), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// generation reads the generation of the tree at out: "" if a file is
// missing or the files disagree.
func generation(out string) string {
	var gen string
	for _, rel := range []string{"metadata/timestamp.json", "targets/a/x.tar.gz", "l3afd/a/x.tar.gz"} {
		b, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(rel)))
		if err != nil || (gen != "" && string(b) != gen) {
			return ""
		}
		gen = string(b)
	}
	return gen
}

// TestSwapHelper is the process TestSwapKilled kills: it swaps the tree
// in $OUTTREE_TMP over $OUTTREE_OUT and dies at step $OUTTREE_KILL.
func TestSwapHelper(t *testing.T) {
	out, tmp, at := os.Getenv("OUTTREE_OUT"), os.Getenv("OUTTREE_TMP"), os.Getenv("OUTTREE_KILL")
	if out == "" {
		t.Skip("run by TestSwapKilled")
	}
	StepHook = func(s string) {
		if s == at {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	}
	if _, err := Swap(tmp, out, &buildcache.TreeManifest{Files: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
}

// TestSwapKilled: a process killed (SIGKILL) at any step of the swap
// leaves the old tree or the new one in place, whole, and the next
// Prepare cleans up after it.
func TestSwapKilled(t *testing.T) {
	for _, at := range []string{"manifest", "swapped", "spared", "none"} {
		t.Run(at, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "public")
			writeTree(t, out, "old")
			tmp, err := Prepare(out)
			if err != nil {
				t.Fatal(err)
			}
			writeTree(t, tmp, "new")
			cmd := exec.Command(os.Args[0], "-test.run=^TestSwapHelper$")
			cmd.Env = append(os.Environ(), "OUTTREE_OUT="+out, "OUTTREE_TMP="+tmp, "OUTTREE_KILL="+at)
			err = cmd.Run()
			killed := err != nil
			if killed != (at != "none") {
				t.Fatalf("helper: %v", err)
			}
			gen := generation(out)
			want := map[string]string{"manifest": "old", "swapped": "new", "spared": "new", "none": "new"}[at]
			if gen != want {
				t.Fatalf("killed at %s: output is %q, want %q", at, gen, want)
			}
			if _, err := Prepare(out); err != nil {
				t.Fatal(err)
			}
			if gen := generation(out); gen != want {
				t.Fatalf("Prepare after the kill changed the output to %q", gen)
			}
			builds, _ := filepath.Glob(filepath.Join(StateDir(out), BuildInfix+"*"))
			trees, _ := filepath.Glob(filepath.Join(StateDir(out), treePrefix+"*"))
			if len(builds) != 1 || len(trees) > 1 {
				t.Errorf("after Prepare: %d build directories, %d spare trees; want 1 and at most 1", len(builds), len(trees))
			}
		})
	}
}

// TestSwapReaders: readers that read the output while it is swapped 200
// times never find a file missing. (Two reads may see two trees: the
// grace period keeps what the older one names.)
func TestSwapReaders(t *testing.T) {
	out := filepath.Join(t.TempDir(), "public")
	writeTree(t, out, "g0")
	var stop atomic.Bool
	var reads, bad atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				for _, rel := range []string{"metadata/timestamp.json", "targets/a/x.tar.gz", "l3afd/a/x.tar.gz"} {
					reads.Add(1)
					if _, err := os.ReadFile(filepath.Join(out, rel)); err != nil {
						bad.Add(1)
					}
				}
			}
		}()
	}
	for i := 1; i <= 200; i++ {
		tmp, err := Prepare(out)
		if err != nil {
			t.Fatal(err)
		}
		writeTree(t, tmp, fmt.Sprintf("g%d", i))
		if atomic, err := Swap(tmp, out, &buildcache.TreeManifest{Files: map[string]string{}}); err != nil || !atomic {
			t.Fatalf("swap %d: atomic %v, %v", i, atomic, err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if bad.Load() != 0 {
		t.Errorf("%d of %d reads failed", bad.Load(), reads.Load())
	}
	if generation(out) != "g200" {
		t.Errorf("output is %q after 200 swaps", generation(out))
	}
}
