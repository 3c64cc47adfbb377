package client

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ebpfrepo/ebpfrepo/index"
)

// FuzzPackageIndex feeds arbitrary bytes as a (signed) package index: the
// client must never panic, and an accepted index only holds artifact
// paths that stay inside the l3afd layout a mirror writes.
func FuzzPackageIndex(f *testing.F) {
	ok, _ := json.Marshal(index.Package{Schema: 1, Name: "rl", Versions: []index.Version{{
		Version: "1.0.0", Artifacts: []index.Artifact{{Platform: "jammy", Path: "rl/1.0.0/jammy/a.tar.gz", Length: 1, SHA256: strings.Repeat("a", 64)}},
	}}})
	f.Add(ok)
	f.Add([]byte(`{"schema":2,"name":"rl"}`))
	f.Add([]byte(`{"schema":1,"name":"rl","versions":[{"version":"..","artifacts":[{"platform":"x","path":"rl/../x/a"}]}]}`))
	f.Add([]byte(`{"schema":1,"name":"rl","versions":[{"version":"1.0.0","artifacts":[{"platform":"j","path":"rl/1.0.0/j/../../../etc/passwd","sha256":"` + strings.Repeat("a", 64) + `"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var p index.Package
		if err := decodeIndex("index/rl.json", data, &p, &p.Schema); err != nil {
			return
		}
		if err := checkPackage("index/rl.json", "rl", &p); err != nil {
			return
		}
		for _, v := range p.Versions {
			for _, a := range v.Artifacts {
				if strings.Contains(a.Path, "..") && strings.Contains(a.Path, "/../") || strings.HasPrefix(a.Path, "/") || strings.Count(a.Path, "/") != 3 {
					t.Fatalf("unsafe artifact path accepted: %q", a.Path)
				}
				for _, c := range strings.Split(a.Path, "/") {
					if c == "" || c == "." || c == ".." {
						t.Fatalf("unsafe component %q in %q", c, a.Path)
					}
				}
			}
			// Resolution never panics on what the index holds.
			p.Resolve(v.Version, "")
		}
		p.Resolve("latest", "jammy")
	})
}

// FuzzDecodeReleases feeds arbitrary bytes as the index file a check
// reads (verified only against the repository's own summary): the lean
// decoder never panics, accepts only artifact paths inside the layout,
// and where the full decoder accepts the index too (it also decodes
// fields the lean one skips) gives the same versions and artifacts.
func FuzzDecodeReleases(f *testing.F) {
	ok, _ := json.Marshal(index.Package{Schema: 1, Name: "rl", Versions: []index.Version{{
		Version: "1.0.0", Artifacts: []index.Artifact{
			{Platform: "jammy", Path: "rl/1.0.0/jammy/a.tar.gz", Length: 1, SHA256: strings.Repeat("a", 64)},
			{Platform: "noble", Path: "rl/1.0.0/noble/a.tar.gz", Length: 1, SHA256: strings.Repeat("a", 64)},
		},
	}}})
	f.Add(ok)
	f.Add([]byte(`{"schema":1,"name":"rl","versions":[{"version":"1.0.0","yanked":{"reason":"x"},"artifacts":null}]}`))
	f.Add([]byte(`{"schema":1,"name":"rl","versions":[{"version":"1.0.0","artifacts":[{"platform":"j","path":"rl/1.0.0/j/../a"}]}]}`))
	f.Add([]byte(`{"schema":0,"name":"rl"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		lean, err := decodeReleases("index/rl.json", "rl", data)
		var full index.Package
		ferr := decodeIndex("index/rl.json", data, &full, &full.Schema)
		if ferr == nil {
			ferr = checkPackage("index/rl.json", "rl", &full)
		}
		if err != nil {
			return
		}
		for _, v := range lean.Versions {
			for _, a := range v.Artifacts {
				for _, c := range strings.Split(a.Path, "/") {
					if c == "" || c == "." || c == ".." || strings.Count(a.Path, "/") != 3 {
						t.Fatalf("unsafe artifact path accepted: %q", a.Path)
					}
				}
			}
		}
		if ferr != nil {
			return // an error in a field the lean decoder does not read
		}
		if len(lean.Versions) != len(full.Versions) {
			t.Fatalf("%d versions, full decode %d", len(lean.Versions), len(full.Versions))
		}
		for i, v := range lean.Versions {
			fv := full.Versions[i]
			if v.Version != fv.Version || v.Prerelease != fv.Prerelease || (v.Yanked == nil) != (fv.Yanked == nil) || len(v.Artifacts) != len(fv.Artifacts) {
				t.Fatalf("version %d: lean %+v, full %+v", i, v, fv)
			}
			for k, a := range v.Artifacts {
				if a != fv.Artifacts[k] {
					t.Fatalf("version %s artifact %d: lean %+v, full %+v", v.Version, k, a, fv.Artifacts[k])
				}
			}
		}
		lean.Latest()
	})
}

// FuzzProxyPath feeds arbitrary request paths to the proxy's parser:
// accepted paths name exactly four safe components.
func FuzzProxyPath(f *testing.F) {
	for _, s := range []string{"/rl/latest/jammy/a.tar.gz", "/rl/1.0.0/jammy/a.tar.gz", "/../../etc/passwd", "/rl/%2e%2e/jammy/a", "/rl/^1/j/a", "//x/y/z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		name, version, platform, artifact, err := parseProxyPath(p)
		if err != nil {
			return
		}
		for _, c := range []string{name, version, platform, artifact} {
			if c == "" || c == "." || c == ".." || strings.ContainsAny(c, "/\\\x00") {
				t.Fatalf("unsafe component %q accepted in %q", c, p)
			}
		}
	})
}
