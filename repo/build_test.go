package repo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/internal/outtree"
	"github.com/ebpfrepo/ebpfrepo/internal/testpkgs"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
	"github.com/google/go-cmp/cmp"
)

// TestEndToEnd builds a repository from testdata, serves it on
// 127.0.0.1 and downloads every target through go-tuf's updater.
func TestEndToEnd(t *testing.T) {
	r := newRepo(t)
	addGood(t, r)
	res := build(t, r, BuildOptions{})
	if res.Versions != len(goodPackages) || res.Packages != 4 || res.Validated+res.Cached != len(goodPackages) {
		t.Errorf("result %+v", res)
	}
	out := filepath.Join(r.Dir, layout.PublicDir)
	root, err := os.ReadFile(filepath.Join(out, "metadata", "1.root.json"))
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(t, out)
	c := newTUFClient(t, srv.URL, root, t0.Add(time.Hour))
	up, err := c.refresh()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	sum := c.summary(up)
	if sum.Schema != index.Schema || sum.Repository != "test-repo" || len(sum.Packages) != 4 {
		t.Fatalf("summary %+v", sum)
	}
	n := 0
	for _, sp := range sum.Packages {
		data := c.download(up, sp.Index)
		h := sha256.Sum256(data)
		if hex.EncodeToString(h[:]) != sp.IndexSHA256 || int64(len(data)) != sp.IndexLength {
			t.Errorf("%s: index file does not match its summary entry", sp.Name)
		}
		var p index.Package
		if err := json.Unmarshal(data, &p); err != nil {
			t.Fatal(err)
		}
		for _, v := range p.Versions {
			if v.Description.Manifest.Name != p.Name || len(v.Description.Objects) == 0 {
				t.Errorf("%s@%s: description lacks manifest or objects", p.Name, v.Version)
			}
			for _, a := range v.Artifacts {
				data := c.download(up, a.Path)
				h := sha256.Sum256(data)
				if hex.EncodeToString(h[:]) != a.SHA256 || int64(len(data)) != a.Length {
					t.Errorf("%s: sha256/length differ from the index entry", a.Path)
				}
				// The plain l3afd tree holds the same bytes.
				plain, err := os.ReadFile(filepath.Join(out, "l3afd", filepath.FromSlash(a.Path)))
				if err != nil || !bytes.Equal(plain, data) {
					t.Errorf("l3afd/%s: missing or different (%v)", a.Path, err)
				}
				n++
			}
		}
	}
	if n == 0 {
		t.Fatal("no artifacts downloaded")
	}
	// latest is the newest stable, non-yanked: ratelimiting 1.1.0, not 2.0.0-rc.1.
	var rl index.Package
	if err := json.Unmarshal(c.download(up, "index/ratelimiting.json"), &rl); err != nil {
		t.Fatal(err)
	}
	a := rl.Lookup("1.1.0").Artifacts[0]
	latest, err := os.ReadFile(filepath.Join(out, "l3afd", "ratelimiting", "latest", a.Platform, filepath.Base(a.Path)))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(latest)
	if hex.EncodeToString(h[:]) != a.SHA256 {
		t.Error("l3afd latest is not 1.1.0")
	}
	if !rl.Versions[0].Prerelease || rl.Versions[0].Version != "2.0.0-rc.1" {
		t.Errorf("newest version first, flagged prerelease: %+v", rl.Versions[0].Version)
	}
}

func TestNoChangeRebuildIdentical(t *testing.T) {
	r := newRepo(t)
	addGood(t, r, "ratelimiting-1.0.0", "tc-stats")
	res1 := build(t, r, BuildOptions{})
	out := filepath.Join(r.Dir, layout.PublicDir)
	before := tree(t, out)
	res2 := build(t, r, BuildOptions{})
	if diff := cmp.Diff(before, tree(t, out)); diff != "" {
		t.Errorf("rebuild changed the output (-before +after):\n%s", diff)
	}
	if res2.Validated != 0 || res2.Hashed != 0 || res2.Cached != 2 {
		t.Errorf("rebuild validated %d, hashed %d, cached %d; want 0, 0, 2", res2.Validated, res2.Hashed, res2.Cached)
	}
	if len(res2.RolesSigned) != 0 || res2.BinsSigned != 0 {
		t.Errorf("rebuild re-signed %v and %d bins", res2.RolesSigned, res2.BinsSigned)
	}
	if len(res1.RolesSigned) == 0 {
		t.Error("first build signed nothing")
	}
	// Adding a package changes only what it must; versions only increase.
	addGood(t, r, "xdp-root")
	res3 := build(t, r, BuildOptions{Now: t0.Add(time.Minute)})
	// Add validated and hashed the new package already: the build reads nothing.
	if res3.Validated+res3.Hashed != 0 || res3.Cached != 3 {
		t.Errorf("incremental: %+v", res3)
	}
	for role, v := range res3.MetadataVersions {
		if v < res2.MetadataVersions[role] {
			t.Errorf("%s version went back from %d to %d", role, res2.MetadataVersions[role], v)
		}
	}
	if res3.BinsSigned >= res3.Bins && res3.Bins > 2 {
		t.Errorf("adding one package re-signed every bin (%d of %d)", res3.BinsSigned, res3.Bins)
	}
}

func TestAddImmutable(t *testing.T) {
	r := newRepo(t)
	first := addGood(t, r, "tc-stats")
	if first[0].Unchanged {
		t.Fatal("first add reported unchanged")
	}
	again := addGood(t, r, "tc-stats")
	if !again[0].Unchanged {
		t.Error("adding identical bytes is not a no-op")
	}
	// Same name@version, other bytes: pack with another mtime.
	other := t.TempDir()
	p, err := packWithTime(t, "tc-stats", other, time.Unix(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Add(context.Background(), []string{p}, AddOptions{})
	var ce *ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("add of other bytes: %v, want a ConflictError", err)
	}
	if ce.Existing != first[0].SHA256 || ce.New == ce.Existing || !strings.Contains(err.Error(), ce.New) {
		t.Errorf("conflict error lacks the digests: %v", err)
	}
	data, _ := os.ReadFile(first[0].Path)
	h := sha256.Sum256(data)
	if hex.EncodeToString(h[:]) != first[0].SHA256 {
		t.Error("the published artifact changed")
	}
	// A source directory is packed then added.
	res, err := r.Add(context.Background(), []string{filepath.Join("..", "testdata", "packages", "xdp-root")}, AddOptions{})
	if err != nil || len(res) != 1 || res[0].Name != "xdp-root" {
		t.Fatalf("add of a source dir: %v %+v", err, res)
	}
}

func TestAddInvalidCopiesNothing(t *testing.T) {
	r := newRepo(t)
	bad := []string{filepath.Join("..", "testdata", "bad", "gpl-helper"), filepath.Join("..", "testdata", "bad", "missing-readme")}
	_, err := r.Add(context.Background(), append([]string{packed(t, "tc-stats")}, bad...), AddOptions{})
	var ie *InvalidError
	if !errors.As(err, &ie) {
		t.Fatalf("got %v, want an InvalidError", err)
	}
	pkgs := map[string]bool{}
	for _, p := range ie.Problems {
		pkgs[p.Package] = true
		if p.Code == "" || p.Message == "" {
			t.Errorf("problem without code or message: %+v", p)
		}
	}
	if len(pkgs) != 2 {
		t.Errorf("problems name %d packages, want both bad ones: %v", len(pkgs), err)
	}
	ents, _ := os.ReadDir(filepath.Join(r.Dir, layout.PackagesDir))
	if len(ents) != 0 {
		t.Errorf("an invalid add copied %d packages", len(ents))
	}
}

func TestInvalidPackageBuild(t *testing.T) {
	r := newRepo(t)
	addGood(t, r, "tc-stats")
	// A valid artifact placed under the wrong version, and a bad package
	// copied in by hand.
	wrong := filepath.Join(r.Dir, layout.PackagesDir, "ratelimiting", "9.9.9")
	os.MkdirAll(wrong, 0o755)
	copyTo(t, packed(t, "ratelimiting-1.0.0"), wrong)
	badArt, err := packDir(t, filepath.Join("..", "testdata", "bad", "gpl-helper"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := readManifestOf(t, filepath.Join("..", "testdata", "bad", "gpl-helper"))
	badDir := filepath.Join(r.Dir, layout.PackagesDir, m.Name, m.Version)
	os.MkdirAll(badDir, 0o755)
	copyTo(t, badArt, badDir)

	_, err = r.Build(context.Background(), BuildOptions{Now: t0})
	var ie *InvalidError
	if !errors.As(err, &ie) {
		t.Fatalf("got %v, want an InvalidError", err)
	}
	msg := err.Error()
	for _, want := range []string{"ratelimiting@9.9.9", ": version: ", m.Name + "@" + m.Version} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if _, err := os.Stat(filepath.Join(r.Dir, layout.PublicDir)); !os.IsNotExist(err) {
		t.Error("a failed build wrote output")
	}

	res := build(t, r, BuildOptions{SkipInvalid: true})
	if len(res.Skipped) != 2 || res.Versions != 1 {
		t.Fatalf("skip-invalid: skipped %d, versions %d: %+v", len(res.Skipped), res.Versions, res.Skipped)
	}
	var sum index.Summary
	readJSON(t, findTarget(t, filepath.Join(r.Dir, layout.PublicDir), layout.SummaryTarget), &sum)
	if len(sum.Packages) != 1 || sum.Packages[0].Name != "tc-stats" {
		t.Errorf("summary after skip-invalid: %+v", sum.Packages)
	}
}

func TestInterruptedBuildKeepsOutput(t *testing.T) {
	r := newRepo(t)
	addGood(t, r, "tc-stats")
	build(t, r, BuildOptions{})
	out := filepath.Join(r.Dir, layout.PublicDir)
	before := tree(t, out)
	metaBefore := tree(t, filepath.Join(r.Dir, layout.RepoMetaDir))
	addGood(t, r, "xdp-root")
	testHookMidBuild = func() error { return errors.New("injected failure") }
	defer func() { testHookMidBuild = nil }()
	if _, err := r.Build(context.Background(), BuildOptions{Now: t0.Add(time.Hour)}); err == nil || !strings.Contains(err.Error(), "injected") {
		t.Fatalf("build: %v, want the injected failure", err)
	}
	if diff := cmp.Diff(before, tree(t, out)); diff != "" {
		t.Errorf("failed build changed the output:\n%s", diff)
	}
	if diff := cmp.Diff(metaBefore, tree(t, filepath.Join(r.Dir, layout.RepoMetaDir))); diff != "" {
		t.Errorf("failed build changed the metadata of record:\n%s", diff)
	}
	ents, _ := os.ReadDir(r.Dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), outtree.BuildInfix) {
			t.Errorf("temporary output %s left behind", e.Name())
		}
	}
	testHookMidBuild = nil
	build(t, r, BuildOptions{Now: t0.Add(time.Hour)})
	if _, err := os.Stat(filepath.Join(out, "l3afd", "xdp-root")); err != nil {
		t.Errorf("the next build did not publish: %v", err)
	}
}

func TestConcurrentBuildRefused(t *testing.T) {
	r := newRepo(t)
	unlock, err := r.lock()
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	r2, _ := Open(context.Background(), r.Dir)
	_, err = r2.Build(context.Background(), BuildOptions{Now: t0})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second build: %v, want ErrLocked", err)
	}
	if _, err := r2.Add(context.Background(), []string{packed(t, "tc-stats")}, AddOptions{}); !errors.Is(err, ErrLocked) {
		t.Errorf("add during a build: %v, want ErrLocked", err)
	}
}

func findTarget(t *testing.T, out, tp string) string {
	t.Helper()
	dir, base := filepath.Split(filepath.FromSlash(tp))
	all, _ := filepath.Glob(filepath.Join(out, "targets", dir, "*."+base))
	retired := retiredFiles(out)
	var m []string
	for _, p := range all {
		rel, _ := filepath.Rel(out, p)
		if _, ok := retired[filepath.ToSlash(rel)]; !ok {
			m = append(m, p)
		}
	}
	if len(m) != 1 {
		t.Fatalf("target %s: %d files", tp, len(m))
	}
	return m[0]
}

func copyTo(t *testing.T, src, dir string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.Base(src)), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestVerifySettingAndProgress(t *testing.T) {
	r := newRepo(t)
	r.Config.Verify = true
	addGood(t, r, "xdp-root")
	var calls, last int
	res := build(t, r, BuildOptions{Progress: func(done, total int) { calls++; last = done }})
	if calls == 0 || last != res.Versions {
		t.Errorf("progress called %d times, last %d of %d", calls, last, res.Versions)
	}
	var p index.Package
	readJSON(t, findTarget(t, filepath.Join(r.Dir, layout.PublicDir), "index/xdp-root.json"), &p)
	vr := p.Versions[0].Description.Verifier
	if vr == nil || len(vr.Programs) == 0 {
		t.Fatalf("verify = true did not run the verifier: %+v", vr)
	}
	t.Logf("verifier on %s %s: %s", vr.Kernel, vr.Arch, vr.Programs[0].Status)
}

func TestCancelAndEmpty(t *testing.T) {
	r := newRepo(t)
	// An empty repository builds: an empty summary, valid metadata.
	res := build(t, r, BuildOptions{})
	if res.Packages != 0 || res.Targets != 1 {
		t.Errorf("empty build: %+v", res)
	}
	out := filepath.Join(r.Dir, layout.PublicDir)
	before := tree(t, out)
	addGood(t, r, "tc-stats", "xdp-root")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := r.Build(ctx, BuildOptions{Now: t0, Progress: func(done, total int) { cancel() }})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled build: %v", err)
	}
	if diff := cmp.Diff(before, tree(t, out)); diff != "" {
		t.Errorf("cancelled build changed the output:\n%s", diff)
	}
}

func TestSymlinkedArtifactRefused(t *testing.T) {
	r := newRepo(t)
	res := addGood(t, r, "tc-stats")
	// Replace the artifact by a symlink to a copy elsewhere.
	elsewhere := filepath.Join(t.TempDir(), filepath.Base(res[0].Path))
	data, _ := os.ReadFile(res[0].Path)
	os.WriteFile(elsewhere, data, 0o644)
	os.Remove(res[0].Path)
	if err := os.Symlink(elsewhere, res[0].Path); err != nil {
		t.Skip(err)
	}
	_, err := r.Build(context.Background(), BuildOptions{Now: t0})
	if err == nil || !strings.Contains(err.Error(), "repo.not-regular") {
		t.Errorf("build with a symlinked artifact: %v", err)
	}
	if err := r.Yank(context.Background(), "../x", "1.0.0", "r", false); err == nil {
		t.Error("yank accepted a path as a name")
	}
}

// TestReusedTreeMatchesFresh checks the double-buffered output: after
// each change, the output built from the spare tree is identical to one
// built from scratch.
func TestReusedTreeMatchesFresh(t *testing.T) {
	r := newRepo(t)
	ctx := context.Background()
	out := filepath.Join(r.Dir, layout.PublicDir)
	now := t0
	kept, pagesKept, pkgsReused := 0, 0, 0
	step := func(name string, change func()) {
		t.Helper()
		change()
		now = now.Add(time.Hour)
		res := build(t, r, BuildOptions{Now: now})
		kept += res.Kept
		pagesKept += res.PagesKept
		pkgsReused += res.PackagesReused
		if diff := freshDiff(t, r, out, BuildOptions{Now: now}); diff != "" {
			t.Fatalf("%s: reused output differs from a fresh one (-fresh +reused):\n%s", name, diff)
		}
	}
	step("first", func() { addGood(t, r, "ratelimiting-1.0.0", "tc-stats") })
	step("second", func() { addGood(t, r, "ratelimiting-1.1.0") })
	step("add", func() { addGood(t, r, "xdp-root", "ratelimiting-2.0.0-rc.1") })
	step("yank", func() {
		if err := r.Yank(ctx, "ratelimiting", "1.1.0", "broken", false); err != nil {
			t.Fatal(err)
		}
	})
	step("timestamp", func() {
		if _, err := r.Timestamp(ctx, TimestampOptions{Now: now.Add(30 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	})
	step("remove", func() {
		if err := os.RemoveAll(filepath.Join(r.Dir, layout.PackagesDir, "tc-stats")); err != nil {
			t.Fatal(err)
		}
	})
	step("nothing", func() {})
	step("nothing again", func() {})
	// Files of the spare tree gone behind its manifest's back: the build
	// notices and builds without the package cache.
	step("spare damaged", func() {
		spares, _ := filepath.Glob(filepath.Join(outtree.StateDir(out), "t-*"))
		if len(spares) != 1 {
			t.Fatalf("spare trees: %v, want one", spares)
		}
		spare := spares[0]
		idx, _ := filepath.Glob(filepath.Join(spare, "targets", "index", "*"))
		pages, _ := filepath.Glob(filepath.Join(spare, "packages", "*", "index.html"))
		if len(idx) == 0 || len(pages) == 0 {
			t.Fatalf("spare tree: %d index files, %d package pages", len(idx), len(pages))
		}
		for _, p := range append(idx, pages...) {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
		}
	})
	if kept == 0 {
		t.Error("the spare tree was not reused")
	}
	if pagesKept == 0 {
		t.Error("no catalogue page of the spare tree was kept")
	}
	if pkgsReused == 0 {
		t.Error("no unchanged package was taken from the package cache")
	}
	// A removed package stays through the grace period, then goes.
	if _, err := os.Stat(filepath.Join(out, "l3afd", "tc-stats")); err != nil {
		t.Errorf("a removed package left the output before the grace period ended: %v", err)
	}
	now = now.Add(defaultGrace)
	step("grace over", func() {})
	if _, err := os.Stat(filepath.Join(out, "l3afd", "tc-stats")); !os.IsNotExist(err) {
		t.Errorf("a removed package is still in the output after the grace period: %v", err)
	}
	// A tree whose manifest is gone is not reused.
	ms, _ := filepath.Glob(filepath.Join(outtree.StateDir(out), "*-*.json"))
	if len(ms) != 3 {
		t.Errorf("%d tree manifests, want 3 (output, spare, and the spare's by name)", len(ms))
	}
	for _, m := range ms {
		os.Remove(m)
	}
	step("no manifest", func() { addGood(t, r, "connection-limit") })
}

func TestAddedRecordedForHandPlacedVersions(t *testing.T) {
	r := newRepo(t)
	dir := filepath.Join(r.Dir, layout.PackagesDir, "tc-stats")
	m := readManifestOf(t, testpkgs.Dir("tc-stats"))
	vdir := filepath.Join(dir, m.Version)
	os.MkdirAll(vdir, 0o755)
	copyTo(t, packed(t, "tc-stats"), vdir)
	build(t, r, BuildOptions{Now: t0})
	data, err := os.ReadFile(filepath.Join(vdir, layout.AddedFile))
	if err != nil || strings.TrimSpace(string(data)) != t0.Format(time.RFC3339) {
		t.Fatalf("added not recorded: %q %v", data, err)
	}
	build(t, r, BuildOptions{Now: t0.Add(48 * time.Hour)})
	var p index.Package
	readJSON(t, findTarget(t, filepath.Join(r.Dir, layout.PublicDir), "index/tc-stats.json"), &p)
	if !p.Versions[0].Added.Equal(t0) {
		t.Errorf("added %v, want the first build's %v", p.Versions[0].Added, t0)
	}
}

// TestOneLatestAnswer builds a package whose only versions are a yanked
// 1.0.0-rc.1 and a 0.9.0-rc.1, and checks that the index, all.json, the
// catalogue and the l3afd tree agree: no stable version, 0.9.0-rc.1 shown.
func TestOneLatestAnswer(t *testing.T) {
	r := newRepo(t)
	ctx := context.Background()
	var paths []string
	for _, v := range []string{"1.0.0-rc.1", "0.9.0-rc.1"} {
		src := filepath.Join(t.TempDir(), "xdp-root")
		if err := os.CopyFS(src, os.DirFS(testpkgs.Dir("xdp-root"))); err != nil {
			t.Fatal(err)
		}
		mf := filepath.Join(src, pkgfmt.ManifestFile)
		data, err := os.ReadFile(mf)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := testpkgs.Manifest(t, testpkgs.Dir("xdp-root"))
		data = bytes.Replace(data, []byte(`version     = "`+m.Version+`"`), []byte(`version     = "`+v+`"`), 1)
		if err := os.WriteFile(mf, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, src)
	}
	if _, err := r.Add(ctx, paths, AddOptions{Now: t0}); err != nil {
		t.Fatal(err)
	}
	if err := r.Yank(ctx, "xdp-root", "1.0.0-rc.1", "broken", false); err != nil {
		t.Fatal(err)
	}
	build(t, r, BuildOptions{})
	out := filepath.Join(r.Dir, layout.PublicDir)
	root, err := os.ReadFile(filepath.Join(out, "metadata", "1.root.json"))
	if err != nil {
		t.Fatal(err)
	}
	c := newTUFClient(t, serve(t, out).URL, root, t0.Add(time.Hour))
	up, err := c.refresh()
	if err != nil {
		t.Fatal(err)
	}
	sum := c.summary(up)
	if len(sum.Packages) != 1 || sum.Packages[0].Latest != "" || sum.Packages[0].Featured != "0.9.0-rc.1" {
		t.Errorf("all.json: %+v, want latest \"\" and featured 0.9.0-rc.1", sum.Packages)
	}
	var p index.Package
	if err := json.Unmarshal(c.download(up, sum.Packages[0].Index), &p); err != nil {
		t.Fatal(err)
	}
	if l := p.Latest(); l != nil {
		t.Errorf("index Latest() = %s, want none", l.Version)
	}
	if f := p.Featured(); f == nil || f.Version != "0.9.0-rc.1" {
		t.Errorf("index Featured() = %v, want 0.9.0-rc.1", f)
	}
	home, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(home, []byte(`<span class="version">0.9.0-rc.1</span>`)) || bytes.Contains(home, []byte(`<span class="version">1.0.0-rc.1</span>`)) {
		t.Error("catalogue home page does not show 0.9.0-rc.1 as the package's version")
	}
	page, err := os.ReadFile(filepath.Join(out, "packages", "xdp-root", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(page, []byte("(latest)")) {
		t.Error("package page labels a version (latest) although none is stable")
	}
	if _, err := os.Stat(filepath.Join(out, "l3afd", "xdp-root", "latest")); !os.IsNotExist(err) {
		t.Errorf("l3afd/xdp-root/latest exists (%v): no version is stable", err)
	}
}

// TestGracePeriod: every file a client holding the previous
// timestamp.json may still ask for (earlier metadata versions, targets of
// versions since removed) stays, byte for byte, until the grace period
// is over, and goes after it.
func TestGracePeriod(t *testing.T) {
	r := newRepo(t)
	out := filepath.Join(r.Dir, layout.PublicDir)
	addGood(t, r, "ratelimiting-1.0.0", "tc-stats")
	build(t, r, BuildOptions{Now: t0})
	before := tree(t, out)
	addGood(t, r, "ratelimiting-1.1.0")
	os.RemoveAll(filepath.Join(r.Dir, layout.PackagesDir, "tc-stats"))
	res := build(t, r, BuildOptions{Now: t0.Add(time.Hour)})
	if res.Retained == 0 {
		t.Fatal("nothing retained")
	}
	after := tree(t, out)
	versioned := func(rel string) bool {
		return (strings.HasPrefix(rel, "metadata/") && rel != layout.Timestamp) || strings.HasPrefix(rel, "targets/") || strings.HasPrefix(rel, "l3afd/tc-stats/")
	}
	for rel, sha := range before {
		if versioned(rel) && after[rel] != sha {
			t.Errorf("%s: gone or changed within the grace period", rel)
		}
	}
	// A third build within the grace period keeps them still; one after
	// it drops them.
	build(t, r, BuildOptions{Now: t0.Add(2 * time.Hour)})
	if _, err := os.Stat(filepath.Join(out, "l3afd", "tc-stats")); err != nil {
		t.Errorf("second build within the grace period: %v", err)
	}
	build(t, r, BuildOptions{Now: t0.Add(time.Hour + defaultGrace)})
	final := tree(t, out)
	for rel := range before {
		if _, ok := final[rel]; ok && versioned(rel) && strings.HasPrefix(rel, "l3afd/tc-stats/") {
			t.Errorf("%s: still published after the grace period", rel)
		}
	}
	if n := len(retiredFiles(out)); n != 0 {
		t.Errorf("%d files still retained after the grace period", n)
	}

	// Restored from a CI cache (new inodes): the grace period still holds.
	t.Run("restored from a cache", func(t *testing.T) {
		addGood(t, r, "tc-stats")
		build(t, r, BuildOptions{Now: t0.Add(2 * defaultGrace)})
		dst := filepath.Join(t.TempDir(), "copy")
		r2 := restoreCopy(t, r.Dir, dst)
		os.RemoveAll(filepath.Join(dst, layout.PackagesDir, "tc-stats"))
		if res := build(t, r2, BuildOptions{Now: t0.Add(2*defaultGrace + time.Hour)}); res.Retained == 0 {
			t.Error("nothing retained after a restore from a cache")
		}
		if _, err := os.Stat(filepath.Join(dst, layout.PublicDir, "l3afd", "tc-stats")); err != nil {
			t.Errorf("removed package gone at once after a restore: %v", err)
		}
	})

	t.Run("disabled", func(t *testing.T) {
		r.Config.Grace = "0s"
		addGood(t, r, "xdp-root")
		if res := build(t, r, BuildOptions{Now: t0.Add(2 * defaultGrace)}); res.Retained != 0 {
			t.Errorf("grace 0s: %d files retained", res.Retained)
		}
	})
}

// TestOutputSymlink: an output directory that is a symbolic link is
// built where it points, and the link stays a link.
func TestOutputSymlink(t *testing.T) {
	r := newRepo(t)
	addGood(t, r, "tc-stats")
	www := filepath.Join(t.TempDir(), "www", "repo")
	os.MkdirAll(www, 0o755)
	link := filepath.Join(t.TempDir(), "public")
	if err := os.Symlink(www, link); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		build(t, r, BuildOptions{Now: t0.Add(time.Duration(i) * time.Minute), OutDir: link})
		fi, err := os.Lstat(link)
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("build %d: the output link is gone or replaced: %v", i, err)
		}
		if _, err := os.Stat(filepath.Join(www, "metadata", "timestamp.json")); err != nil {
			t.Fatalf("build %d: nothing built where the link points: %v", i, err)
		}
	}
}

// TestUpgradeFromSpareLayout: an output built by the layout before the
// state directory (manifest beside it as .public.tree-<id>.json) keeps
// the grace period through the first build after the upgrade.
func TestUpgradeFromSpareLayout(t *testing.T) {
	r := newRepo(t)
	addGood(t, r, "tc-stats", "xdp-root")
	build(t, r, BuildOptions{Now: t0})
	out := filepath.Join(r.Dir, layout.PublicDir)
	state := outtree.StateDir(out)
	ms, _ := filepath.Glob(filepath.Join(state, "*-*.json"))
	var legacy string
	for _, m := range ms {
		id := strings.TrimSuffix(filepath.Base(m), ".json")
		legacy = filepath.Join(r.Dir, ".public.tree-"+id+".json")
		os.Rename(m, legacy)
	}
	os.RemoveAll(state)
	os.RemoveAll(filepath.Join(r.Dir, layout.PackagesDir, "tc-stats"))
	res := build(t, r, BuildOptions{Now: t0.Add(time.Minute)})
	if res.Retained == 0 {
		t.Error("the first build after the upgrade kept nothing through the grace period")
	}
	if _, err := os.Stat(legacy); !os.IsNotExist(err) {
		t.Errorf("the legacy manifest is still beside the output: %v", err)
	}
}

// TestFirstRebuildAfterColdIsIncremental: packages without an added file
// (a converted collection, or a CI cache lost) get their dates recorded
// by the cold build, and the very next build reuses them all — it is not
// a second cold build.
func TestFirstRebuildAfterColdIsIncremental(t *testing.T) {
	r := newRepo(t)
	addGood(t, r, "ratelimiting-1.0.0", "ratelimiting-1.1.0", "tc-stats")
	removed := 0
	_ = filepath.WalkDir(filepath.Join(r.Dir, layout.PackagesDir), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == layout.AddedFile {
			removed++
			return os.Remove(p)
		}
		return nil
	})
	if removed != 3 {
		t.Fatalf("removed %d added files, want 3", removed)
	}
	out := filepath.Join(r.Dir, layout.PublicDir)
	cold := build(t, r, BuildOptions{Now: t0})
	if cold.PackagesReused != 0 {
		t.Fatalf("cold build reused %d packages", cold.PackagesReused)
	}
	before := tree(t, out)
	again := build(t, r, BuildOptions{Now: t0.Add(time.Hour)})
	if again.PackagesReused != cold.Packages {
		t.Errorf("the first rebuild after a cold build reused %d of %d packages", again.PackagesReused, cold.Packages)
	}
	// The rebuild worked in a clone sharing the live tree's files: the
	// tree readers had (now the spare) must not have changed under them.
	spares, _ := filepath.Glob(filepath.Join(outtree.StateDir(out), "t-*"))
	if len(spares) != 1 {
		t.Fatalf("%d spare trees, want 1", len(spares))
	}
	if diff := cmp.Diff(before, tree(t, spares[0])); diff != "" {
		t.Errorf("the tree readers were reading changed during the rebuild (-before +after):\n%s", diff)
	}
	if diff := freshDiff(t, r, out, BuildOptions{Now: t0.Add(time.Hour)}); diff != "" {
		t.Errorf("output built on the clone differs from a fresh one (-fresh +reused):\n%s", diff)
	}
	addGood(t, r, "xdp-root")
	inc := build(t, r, BuildOptions{Now: t0.Add(2 * time.Hour)})
	if inc.PackagesReused != cold.Packages {
		t.Errorf("add-one build reused %d packages, want %d", inc.PackagesReused, cold.Packages)
	}
}

// TestScanOrder: scan lists packages/ in name order, then version
// directory order, whichever of its workers listed a package, and skips
// hidden entries and files.
func TestScanOrder(t *testing.T) {
	r := newRepo(t)
	root := r.paths().Packages()
	var want []string
	for i := range 40 {
		name := fmt.Sprintf("pkg-%02d", 39-i) // created out of order
		for _, v := range []string{"1.0.0", "1.10.0", "1.2.0"} {
			dir := filepath.Join(root, name, v)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, "l3af_"+name+".tar.gz"), []byte("x"), 0o644)
		}
	}
	for i := range 40 {
		for _, v := range []string{"1.0.0", "1.10.0", "1.2.0"} { // directory-name order
			want = append(want, fmt.Sprintf("pkg-%02d@%s", i, v))
		}
	}
	os.MkdirAll(filepath.Join(root, ".hidden", "1.0.0"), 0o755)
	os.WriteFile(filepath.Join(root, "README"), nil, 0o644)
	items, err := r.scan()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		got = append(got, it.label())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("scan order (-want +got):\n%s", diff)
	}
}
