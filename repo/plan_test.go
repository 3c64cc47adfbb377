package repo

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ebpfrepo/ebpfrepo/internal/outtree"
	"github.com/ebpfrepo/ebpfrepo/layout"
)

// TestRebuildAfterFullRender: a change that renders every page anew (here
// the repository's description, in every page's header; in practice a
// new ebpfrepo) leaves the spare tree — the tree before the live one —
// with none of the new pages. The build after it grafts the live tree's
// pages and index files into the spare (links) instead of rendering
// everything a second time or cloning the whole live tree, and its
// output is what a fresh build writes.
func TestRebuildAfterFullRender(t *testing.T) {
	r := newRepo(t)
	addGood(t, r, "ratelimiting-1.0.0", "ratelimiting-1.1.0", "tc-stats", "xdp-root")
	out := filepath.Join(r.Dir, layout.PublicDir)
	build(t, r, BuildOptions{Now: t0})
	build(t, r, BuildOptions{Now: t0}) // now there is a spare
	r.Config.Description = "a new description for every page"
	all := build(t, r, BuildOptions{Now: t0.Add(time.Hour)})
	if all.PackagesReused != 0 || all.PagesRendered != all.Packages {
		t.Fatalf("after the change: reused %d, rendered %d of %d packages, want every page rendered", all.PackagesReused, all.PagesRendered, all.Packages)
	}
	spare := onlySpare(t, out)
	next := build(t, r, BuildOptions{Now: t0.Add(2 * time.Hour)})
	if !os.SameFile(spare, stat(t, out)) {
		t.Error("the build did not work in the spare (it cloned the live tree)")
	}
	if next.PackagesReused != next.Packages || next.PagesRendered != 0 {
		t.Errorf("the build after it reused %d and rendered %d of %d packages, want all reused", next.PackagesReused, next.PagesRendered, next.Packages)
	}
	if diff := freshDiff(t, r, out, BuildOptions{Now: t0.Add(2 * time.Hour)}); diff != "" {
		t.Errorf("the output built on the grafted spare differs from a fresh one (-fresh +got):\n%s", diff)
	}
}

// TestGraftFallsBack: a live tree the spare cannot take files from (here
// a symlink among a package's pages, which nothing ebpfrepo writes makes)
// is not grafted: the build says so, builds its output another way, and
// publishes what a fresh build would.
func TestGraftFallsBack(t *testing.T) {
	r := newRepo(t)
	addGood(t, r, "ratelimiting-1.0.0", "tc-stats")
	out := filepath.Join(r.Dir, layout.PublicDir)
	build(t, r, BuildOptions{Now: t0})
	build(t, r, BuildOptions{Now: t0})
	r.Config.Description = "a new description for every page"
	build(t, r, BuildOptions{Now: t0.Add(time.Hour)})
	if err := os.Symlink("index.html", filepath.Join(out, "packages", "tc-stats", "odd.html")); err != nil {
		t.Fatal(err)
	}
	next := build(t, r, BuildOptions{Now: t0.Add(2 * time.Hour)})
	if !slices.ContainsFunc(next.Notes, func(n string) bool { return strings.Contains(n, "could not take the live tree's files") }) {
		t.Errorf("notes %q: none says the graft failed", next.Notes)
	}
	if diff := freshDiff(t, r, out, BuildOptions{Now: t0.Add(2 * time.Hour)}); diff != "" {
		t.Errorf("the output differs from a fresh one (-fresh +got):\n%s", diff)
	}
}

// TestRestoredStateIsIncremental: CI restores the output and its state
// directory from a cache (cp -a, as a tar would: same content, new
// inodes). The spare is found by its name, so the add-one build after
// the restore reuses every unchanged package instead of cloning the live
// tree and removing the restored spare — and publishes what a fresh
// build would.
func TestRestoredStateIsIncremental(t *testing.T) {
	r := newRepo(t)
	addGood(t, r, "ratelimiting-1.0.0", "ratelimiting-1.1.0", "tc-stats")
	build(t, r, BuildOptions{Now: t0})
	prev := build(t, r, BuildOptions{Now: t0}) // now there is a spare
	restored := filepath.Join(t.TempDir(), "restored")
	rr := restoreCopy(t, r.Dir, restored)
	addGood(t, rr, "xdp-root")
	out := filepath.Join(restored, layout.PublicDir)
	spare := onlySpare(t, out)
	inc := build(t, rr, BuildOptions{Now: t0.Add(time.Hour)})
	if !os.SameFile(spare, stat(t, out)) {
		t.Error("the build did not work in the restored spare (it cloned the live tree)")
	}
	if inc.PackagesReused != prev.Packages || inc.PagesRendered != 1 {
		t.Errorf("the add-one build after a restore reused %d of %d packages and rendered %d, want all reused and one rendered",
			inc.PackagesReused, prev.Packages, inc.PagesRendered)
	}
	// And again: the build on a restored tree leaves its spare findable
	// by name too.
	again := filepath.Join(t.TempDir(), "again")
	ra := restoreCopy(t, restored, again)
	aout := filepath.Join(again, layout.PublicDir)
	spare = onlySpare(t, aout)
	// (xdp-root, added by the build before, is not in that spare: its
	// pages and index file are grafted from the live tree.)
	if b := build(t, ra, BuildOptions{Now: t0.Add(2 * time.Hour)}); b.PackagesReused != b.Packages || b.PagesRendered != 0 || !os.SameFile(spare, stat(t, aout)) {
		t.Errorf("second restore: reused %d of %d packages, built in the restored spare: %t", b.PackagesReused, b.Packages, os.SameFile(spare, stat(t, aout)))
	}
	if diff := freshDiff(t, rr, filepath.Join(restored, layout.PublicDir), BuildOptions{Now: t0.Add(time.Hour)}); diff != "" {
		t.Errorf("the output built on the restored spare differs from a fresh one (-fresh +got):\n%s", diff)
	}
}

// onlySpare is the one spare tree of out.
func onlySpare(t *testing.T, out string) os.FileInfo {
	t.Helper()
	var dirs []string
	ents, _ := os.ReadDir(outtree.StateDir(out))
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), "t-") {
			dirs = append(dirs, e.Name())
		}
	}
	if len(dirs) != 1 {
		t.Fatalf("spare trees %v, want one", dirs)
	}
	return stat(t, filepath.Join(outtree.StateDir(out), dirs[0]))
}

func stat(t *testing.T, p string) os.FileInfo {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}
