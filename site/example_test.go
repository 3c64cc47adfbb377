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
			Description: pkgfmt.Description{Manifest: pkgfmt.Manifest{
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
