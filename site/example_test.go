package site_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
	"github.com/ebpfrepo/ebpfrepo/site"
)

func ExampleWrite() {
	out, err := os.MkdirTemp("", "catalogue")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(out)
	d := &site.Data{
		Repository: "demo",
		Generated:  time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Packages: []*index.Package{{Schema: 1, Name: "xdp-root", Versions: []index.Version{{
			Version: "1.0.0",
			Description: &pkgfmt.Description{Manifest: pkgfmt.Manifest{
				Name: "xdp-root", Version: "1.0.0", Description: "Root of an XDP chain",
				Artifact: "xdp-root.tar.gz", Platforms: []string{"jammy"},
				Programs: []pkgfmt.Program{{Name: "xdp_root", Object: "xdp_root.bpf.o", Type: "xdp", Chaining: "l3af", MapName: "xdp_root_next"}},
			}},
		}}}},
	}
	if err := site.Write(context.Background(), out, d); err != nil {
		panic(err)
	}
	for _, f := range []string{"index.html", "trust.html", "search.json", "packages/xdp-root/index.html", "packages/xdp-root/1.0.0.html"} {
		_, err := os.Stat(filepath.Join(out, f))
		fmt.Println(f, err == nil)
	}
	// Output:
	// index.html true
	// trust.html true
	// search.json true
	// packages/xdp-root/index.html true
	// packages/xdp-root/1.0.0.html true
}

func ExampleRenderReadme() {
	fmt.Println(site.RenderReadme("# Hi\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) **ok**"))
	// Output:
	// <h3>Hi</h3>
	//
	// <p>x <strong>ok</strong></p>
}

// WriteWith keeps the pages of packages whose digest is unchanged since
// the Write that left them in the directory.
func ExampleWriteWith() {
	out, err := os.MkdirTemp("", "catalogue")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(out)
	d := &site.Data{Repository: "demo", Generated: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	for _, name := range []string{"tc-stats", "xdp-root"} {
		d.Packages = append(d.Packages, &index.Package{Schema: 1, Name: name, Versions: []index.Version{{
			Version:     "1.0.0",
			Description: &pkgfmt.Description{Manifest: pkgfmt.Manifest{Name: name, Version: "1.0.0", Artifact: name + ".tar.gz"}},
		}}})
	}
	// Digests stand for the package's content: the repository build uses
	// the sha256 of the package's index file.
	digests := map[string]string{"tc-stats": "a1", "xdp-root": "b1"}
	ctx := context.Background()
	first, err := site.WriteWith(ctx, out, d, site.WriteOptions{Digests: digests, Previous: map[string]string{}})
	if err != nil {
		panic(err)
	}
	fmt.Println("first: rendered", first.Rendered, "kept", first.Kept)

	d.Packages[1].Versions[0].Description.Manifest.Description = "Root of an XDP chain"
	digests["xdp-root"] = "b2"
	second, err := site.WriteWith(ctx, out, d, site.WriteOptions{Digests: digests, Previous: first.Fingerprints})
	if err != nil {
		panic(err)
	}
	fmt.Println("second: rendered", second.Rendered, "kept", second.Kept)
	// Output:
	// first: rendered 2 kept 0
	// second: rendered 1 kept 1
}
