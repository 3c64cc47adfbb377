package layout

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPublishedPaths(t *testing.T) {
	tp := ArtifactTarget("ratelimiting", "1.1.0", "jammy", "l3af_ratelimiting.tar.gz")
	got := map[string]string{
		"artifact target": tp,
		"target":          Target(tp, "ab12"),
		"index target":    Target(PackageIndexTarget("ratelimiting"), "cd34"),
		"summary":         Target(SummaryTarget, "ef56"),
		"l3afd":           L3afd(tp),
		"latest":          L3afdLatest("ratelimiting", "jammy", "l3af_ratelimiting.tar.gz"),
		"mirror latest":   MirrorLatest("ratelimiting", "jammy", "l3af_ratelimiting.tar.gz"),
		"root":            Root(3),
		"first root":      FirstRoot,
		"timestamp":       Timestamp,
		"page":            PackagePage("ratelimiting"),
		"metadata URL":    MetadataURL("https://h/repo/"),
		"targets URL":     TargetsURL("https://h/repo"),
	}
	want := map[string]string{
		"artifact target": "ratelimiting/1.1.0/jammy/l3af_ratelimiting.tar.gz",
		"target":          "targets/ratelimiting/1.1.0/jammy/ab12.l3af_ratelimiting.tar.gz",
		"index target":    "targets/index/cd34.ratelimiting.json",
		"summary":         "targets/index/ef56.all.json",
		"l3afd":           "l3afd/ratelimiting/1.1.0/jammy/l3af_ratelimiting.tar.gz",
		"latest":          "l3afd/ratelimiting/latest/jammy/l3af_ratelimiting.tar.gz",
		"mirror latest":   "ratelimiting/latest/jammy/l3af_ratelimiting.tar.gz",
		"root":            "metadata/3.root.json",
		"first root":      "metadata/1.root.json",
		"timestamp":       "metadata/timestamp.json",
		"page":            "packages/ratelimiting/index.html",
		"metadata URL":    "https://h/repo/metadata/",
		"targets URL":     "https://h/repo/targets/",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
}

func TestCacheControl(t *testing.T) {
	for _, tc := range []struct{ path, want string }{
		{"metadata/timestamp.json", CacheNoCache},
		{"/metadata/timestamp.json", CacheNoCache},
		{"metadata/3.root.json", CacheImmutable},
		{"metadata/7.snapshot.json", CacheImmutable},
		{"metadata/2.bins-0f.json", CacheImmutable},
		{"targets/index/ab.all.json", CacheImmutable},
		{"targets/x/1.0.0/jammy/ab.x.tar.gz", CacheImmutable},
		{"l3afd/x/latest/jammy/x.tar.gz", CacheNoCache},
		{"l3afd/x/1.0.0/jammy/x.tar.gz", CacheNoCache},
		{"index.html", CacheNoCache},
		{"/", CacheNoCache},
		{"search.json", CacheNoCache},
		{"packages/x/index.html", CacheNoCache},
		{"assets/app.0123abcd.js", CacheImmutable},
	} {
		t.Run(tc.path, func(t *testing.T) {
			if got := CacheControl(tc.path); got != tc.want {
				t.Errorf("CacheControl(%q) = %q, want %q", tc.path, got, tc.want)
			}
		})
	}
}

func TestInTUFTree(t *testing.T) {
	for p, want := range map[string]bool{
		"metadata/1.root.json": true, "targets/a": true, "l3afd/x": true,
		"index.html": false, "packages/x/index.html": false, "assets/a.css": false, "metadatax/y": false,
	} {
		if got := InTUFTree(p); got != want {
			t.Errorf("InTUFTree(%q) = %t, want %t", p, got, want)
		}
	}
}

func TestRepoDir(t *testing.T) {
	d := RepoDir("/r")
	got := []string{d.Config(), d.Keys(), d.Packages(), d.Version("x", "1.0.0"), d.Artifact("x", "1.0.0", "x.tar.gz"),
		d.Added("x", "1.0.0"), d.Metadata(), d.Cache("files.json"), d.Public(), d.Yanked(), d.Lock()}
	want := []string{"/r/ebpfrepo.toml", "/r/keys", "/r/packages", "/r/packages/x/1.0.0", "/r/packages/x/1.0.0/x.tar.gz",
		"/r/packages/x/1.0.0/added", "/r/metadata", "/r/.cache/files.json", "/r/public", "/r/yanked.toml", "/r/.lock"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
