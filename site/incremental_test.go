package site

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/google/go-cmp/cmp"
)

// digestsOf digests each package as the repository build does (the
// bytes of its index file).
func digestsOf(t *testing.T, d *Data) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, p := range d.Packages {
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		m[p.Name] = hex.EncodeToString(sum[:])
	}
	return m
}

// TestIncrementalMatchesFresh writes a catalogue over an earlier one,
// keeping the pages of unchanged packages, and checks that the tree is
// byte-for-byte what a Write into an empty directory gives.
func TestIncrementalMatchesFresh(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	prev := map[string]string{} // an empty directory: nothing to keep, everything stale goes
	steps := []struct {
		name       string
		change     func(d *Data)
		wantKept   int
		wantRender int
	}{
		{"first", func(d *Data) {}, 0, 5},
		{"nothing, later", func(d *Data) { d.Generated = d.Generated.Add(time.Hour) }, 5, 0},
		{"one package changes", func(d *Data) {
			d.Packages[1].Versions[0].Description.Manifest.Description = "changed"
		}, 4, 1},
		{"one package goes", func(d *Data) { d.Packages = d.Packages[:4] }, 4, 0},
		{"base URL changes", func(d *Data) { d.BaseURL = "https://example.org/repo" }, 0, 4},
	}
	d := fixtureData()
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.change(d)
			// A stale asset and a stale top-level package directory.
			os.MkdirAll(filepath.Join(dir, "assets"), 0o755)
			os.WriteFile(filepath.Join(dir, "assets", "app.000000000000.css"), []byte("old"), 0o644)
			res, err := WriteWith(ctx, dir, d, WriteOptions{Digests: digestsOf(t, d), Previous: prev})
			if err != nil {
				t.Fatal(err)
			}
			if res.Kept != st.wantKept || res.Rendered != st.wantRender {
				t.Errorf("kept %d, rendered %d; want %d, %d", res.Kept, res.Rendered, st.wantKept, st.wantRender)
			}
			prev = res.Fingerprints
			fresh := t.TempDir()
			if err := Write(ctx, fresh, d); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tree(t, fresh), tree(t, dir)); diff != "" {
				t.Errorf("incremental tree differs from a fresh one (-fresh +incremental):\n%s", diff)
			}
		})
	}
}

// TestCatalogueDropsOlderDescriptions checks that Finish needs only the
// latest version's description of a package already written.
func TestCatalogueDropsOlderDescriptions(t *testing.T) {
	ctx := context.Background()
	d := fixtureData()
	fresh := t.TempDir()
	if err := Write(ctx, fresh, fixtureData()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c, err := NewCatalogue(dir, d, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range d.Packages {
		if err := c.WritePackage(p, ""); err != nil {
			t.Fatal(err)
		}
		li := p.FeaturedIndex()
		for j := range p.Versions {
			if j != li {
				p.Versions[j].Description = index.Version{}.Description
			}
		}
	}
	if _, err := c.Finish(ctx, d); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(tree(t, fresh), tree(t, dir)); diff != "" {
		t.Errorf("catalogue differs from Write's (-Write +Catalogue):\n%s", diff)
	}
}

// BenchmarkWriteIncremental measures a catalogue rewrite over the same
// tree where one package of 1,000 changed: one package's pages are
// rendered, the home page, search.json and the trust page are rewritten.
func BenchmarkWriteIncremental(b *testing.B) {
	d := fixtureData()
	base := d.Packages[0]
	d.Packages = nil
	for i := range 1000 {
		p := *base
		p.Name = fmt.Sprintf("pkg-%04d", i)
		d.Packages = append(d.Packages, &p)
	}
	digests := map[string]string{}
	for _, p := range d.Packages {
		digests[p.Name] = "d-" + p.Name
	}
	ctx := context.Background()
	dir := b.TempDir()
	res, err := WriteWith(ctx, dir, d, WriteOptions{Digests: digests, Previous: map[string]string{}})
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for b.Loop() {
		n++
		digests["pkg-0500"] = fmt.Sprintf("changed-%d", n)
		res, err = WriteWith(ctx, dir, d, WriteOptions{Digests: digests, Previous: res.Fingerprints})
		if err != nil {
			b.Fatal(err)
		}
		if res.Rendered != 1 {
			b.Fatalf("rendered %d packages, want 1", res.Rendered)
		}
	}
}
