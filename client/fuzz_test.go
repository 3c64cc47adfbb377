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
