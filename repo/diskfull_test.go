package repo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// dirSize is the bytes of the regular files under dir.
func dirSize(t *testing.T, dir string) int64 {
	var n int64
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// TestDiskFull: a build whose output file system fills up fails with the
// cause, and leaves the previous output whole and checking, with no
// temporary output left behind. Needs root (to mount a small tmpfs).
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	r := newRepo(t)
	addGood(t, r, "tc-stats")
	probe := filepath.Join(t.TempDir(), "probe")
	build(t, r, BuildOptions{Now: t0, OutDir: probe})
	need := dirSize(t, probe)

	mnt := t.TempDir()
	size := need*2 + 256<<10 // the first output and its state, not much more
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size="+strconv.FormatInt(size, 10)); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
	out := filepath.Join(mnt, "public")
	build(t, r, BuildOptions{Now: t0, OutDir: out})
	before := tree(t, out)
	addGood(t, r, "connection-limit", "ratelimiting-1.0.0", "ratelimiting-1.1.0", "ratelimiting-2.0.0-rc.1", "xdp-root")
	_, err := r.Build(context.Background(), BuildOptions{Now: t0.Add(time.Minute), OutDir: out})
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("build onto a full file system: %v, want ENOSPC", err)
	}
	if diff := cmp.Diff(before, tree(t, out)); diff != "" {
		t.Errorf("the failed build changed the output:\n%s", diff)
	}
	root, _ := os.ReadFile(filepath.Join(out, "metadata", "1.root.json"))
	if _, err := newCheckClient(t, "file://"+out, root).Check(context.Background()); err != nil {
		t.Errorf("the output after a failed build does not check: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(mnt, ".public.d", "build-*")); len(left) != 0 {
		t.Errorf("temporary output left on the full file system: %v", left)
	}
}
