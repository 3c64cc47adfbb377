package repo

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/google/go-cmp/cmp"
)

// TestRebuildAfterFullRender: a change that renders every page anew (here
// the repository's description, in every page's header; in practice a
// new ebpfrepo) leaves the spare tree — the tree before the live one —
// with none of the new pages. The build after it clones the live tree
// instead of rendering everything a second time, and its output is what
// a fresh build writes.
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
	next := build(t, r, BuildOptions{Now: t0.Add(2 * time.Hour)})
	if next.PackagesReused != next.Packages || next.PagesRendered != 0 {
		t.Errorf("the build after it reused %d and rendered %d of %d packages, want all reused", next.PackagesReused, next.PagesRendered, next.Packages)
	}
	fresh := filepath.Join(t.TempDir(), "fresh")
	build(t, r, BuildOptions{Now: t0.Add(2 * time.Hour), OutDir: fresh})
	got := tree(t, out)
	for rel := range retiredFiles(out) {
		delete(got, rel)
	}
	if diff := cmp.Diff(tree(t, fresh), got); diff != "" {
		t.Errorf("the output built on the clone differs from a fresh one (-fresh +got):\n%s", diff)
	}
}
