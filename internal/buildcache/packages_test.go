package buildcache

import (
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

// TestPackagesRoundTrip: the package cache reads back what it saved, with
// what its versions repeat shared (one digest for the platforms of an
// artifact, one record per distinct signing) and no spare capacity.
func TestPackagesRoundTrip(t *testing.T) {
	sha := "0da44e5c32abf6f3621e1a047d3e4e39531713c12c9959b2141a3d5e52560c31"
	version := func(v string) index.Version {
		return index.Version{Version: v, Added: time.Unix(1700000000, 0).UTC(),
			Artifacts: []index.Artifact{
				{Platform: "jammy", Path: "p/" + v + "/jammy/a.tar.gz", Length: 10, SHA256: sha},
				{Platform: "noble", Path: "p/" + v + "/noble/a.tar.gz", Length: 10, SHA256: sha},
			},
			Signatures:  &index.Signatures{Package: index.PackageSignature{Signer: index.SignerRepository, Role: "unclaimed"}},
			Description: &pkgfmt.Description{Manifest: pkgfmt.Manifest{Description: "d " + v}},
		}
	}
	path := filepath.Join(t.TempDir(), "packages.json")
	c := LoadPackages(path)
	for _, name := range []string{"a", "b"} {
		p := &index.Package{Name: name}
		for _, v := range []string{"1.2.0", "1.1.0", "1.0.0"} {
			p.Versions = append(p.Versions, version(v))
		}
		c.Entries[name] = &PackageEntry{Key: "k" + name, IndexSHA: sha, IndexLen: 3, Package: p}
	}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	got := LoadPackages(path)
	if diff := cmp.Diff(c.Entries, got.Entries); diff != "" {
		t.Fatalf("read back (-saved +read):\n%s", diff)
	}
	a, b := got.Entries["a"].Package, got.Entries["b"].Package
	if unsafe.StringData(a.Versions[0].Artifacts[0].SHA256) != unsafe.StringData(b.Versions[2].Artifacts[1].SHA256) {
		t.Error("the same digest is held twice")
	}
	if a.Versions[0].Signatures != b.Versions[1].Signatures {
		t.Error("the same signing record is held twice")
	}
	if cap(a.Versions) != len(a.Versions) {
		t.Errorf("versions: cap %d for %d", cap(a.Versions), len(a.Versions))
	}
}
