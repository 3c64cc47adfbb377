package pkgfmt_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/ebpfrepo/ebpfrepo/bpfobj"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

func ExampleParseManifest() {
	m, problems := pkgfmt.ParseManifest([]byte(`
name        = "rate.limiting"
version     = "v1.2.0"
description = "XDP rate limiter"
licence     = "GPL-2.0-only"
readme      = "README.md"
artifact    = "l3af_ratelimiting.tar.gz"
platforms   = ["jammy"]

[[programs]]
name   = "xdp_ratelimiting"
object = "ratelimiting.bpf.o"
type   = "xdp"
`))
	for _, p := range problems {
		fmt.Printf("%s %s %s: %s\n", p.Severity, p.Code, p.Field, p.Message)
	}
	fmt.Println("stem:", m.ArtifactStem())
	// Output:
	// error manifest.unknown-key licence: unknown key "licence" (did you mean "license"?)
	// error manifest.name name: "rate.limiting" is invalid: no dots: l3afd builds bpffs pin paths from the name; use 1 to 63 of a-z, 0-9, '_' and '-', starting with a letter or digit
	// error manifest.version version: "v1.2.0": drop the leading "v" and write "1.2.0" (semantic version 2.0)
	// error manifest.license license: missing: give an SPDX license expression, e.g. "GPL-2.0-only OR BSD-2-Clause"
	// warning manifest.maintainers maintainers: none listed: say who answers for the package
	// stem: l3af_ratelimiting
}

func ExamplePack() {
	src, _ := os.MkdirTemp("", "src")
	out, _ := os.MkdirTemp("", "out")
	defer os.RemoveAll(src)
	defer os.RemoveAll(out)
	os.WriteFile(filepath.Join(src, "ebpf-package.toml"), []byte(`
name        = "hello"
version     = "1.0.0"
description = "Counts packets"
license     = "MIT"
readme      = "README.md"
maintainers = [{ name = "A. Author" }]
artifact    = "hello.tar.gz"
platforms   = ["noble"]

[[programs]]
name   = "count"
object = "bpf/hello.bpf.o"
type   = "xdp"
`), 0o644)
	os.WriteFile(filepath.Join(src, "README.md"), []byte("# hello\n"), 0o644)
	os.Mkdir(filepath.Join(src, "bpf"), 0o755)
	os.WriteFile(filepath.Join(src, "bpf", "hello.bpf.o"), []byte("\x7fELF"), 0o600)

	path, err := pkgfmt.Pack(context.Background(), src, out, pkgfmt.PackOptions{ModTime: time.Unix(1700000000, 0)})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(filepath.Base(path))

	c, err := pkgfmt.OpenArtifact(context.Background(), path, pkgfmt.Limits{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("top-level directory:", c.Stem)
	for _, f := range c.Files {
		fmt.Printf("%v %s\n", f.Mode, f.Path)
	}
	// Output:
	// hello.tar.gz
	// top-level directory: hello
	// -rw-r--r-- README.md
	// -rw-r--r-- bpf/hello.bpf.o
	// -rw-r--r-- ebpf-package.toml
}

func ExampleReadArtifact() {
	// An archive with a path that climbs out of the package.
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "evil/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "evil/../../etc/cron.d/x", Typeflag: tar.TypeReg, Mode: 0o644})
	tw.Close()
	zw.Close()

	_, err := pkgfmt.ReadArtifact(context.Background(), "evil.tar.gz", bytes.NewReader(b.Bytes()), int64(b.Len()), pkgfmt.Limits{})
	fmt.Println(err)
	var ee *pkgfmt.EntryError
	if errors.As(err, &ee) && errors.Is(err, pkgfmt.ErrPathTraversal) {
		fmt.Println("rejected entry:", ee.Entry)
	}
	// Output:
	// evil.tar.gz: entry "evil/../../etc/cron.d/x": path escapes the package root
	// rejected entry: evil/../../etc/cron.d/x
}

func ExampleOpenDir() {
	src, _ := os.MkdirTemp("", "src")
	defer os.RemoveAll(src)
	os.WriteFile(filepath.Join(src, "README.md"), []byte("# x\n"), 0o644)
	os.Symlink("/etc/shadow", filepath.Join(src, "shadow"))

	_, err := pkgfmt.OpenDir(context.Background(), src, pkgfmt.Limits{})
	fmt.Println(errors.Is(err, pkgfmt.ErrLink))
	// Output:
	// true
}

func ExampleLintPath() {
	d, err := pkgfmt.LintPath(context.Background(), "../testdata/packages/xdp-root", pkgfmt.LintOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s@%s: %d object(s), %d problem(s), errors: %v\n",
		d.Manifest.Name, d.Manifest.Version, len(d.Objects), len(d.Problems), d.HasErrors())
	for _, o := range d.Objects {
		for _, p := range o.Programs {
			fmt.Printf("%s: %s %s, tail calls %v\n", o.Path, p.Name, p.Type, p.TailCalls)
		}
	}
	fmt.Println("min kernel:", d.Kernel.MinVersion)
	// Output:
	// xdp-root@1.0.0: 1 object(s), 0 problem(s), errors: false
	// xdp_root.bpf.o: xdp_root XDP, tail calls [xdp_root_next_prog]
	// min kernel: 4.8
}

func ExampleCheckMinKernel() {
	k := bpfobj.InferKernel([]bpfobj.ObjectReport{{
		Maps: []bpfobj.MapReport{{Name: "events", Type: "RingBuf"}},
		Programs: []bpfobj.ProgramReport{{
			Name: "xdp_count", Type: "XDP",
			Helpers: []string{"bpf_map_lookup_elem", "bpf_loop"},
		}},
	}})
	fmt.Println("min kernel", k.MinVersion)
	for _, f := range k.SetBy {
		fmt.Println("set by", f.Kind, f.Name)
	}
	for _, p := range pkgfmt.CheckMinKernel("5.10", k) {
		fmt.Println(p.Severity, p.Message)
	}
	// Output:
	// min kernel 5.17
	// set by helper bpf_loop
	// warning min_kernel 5.10 is lower than 5.17 required by helper bpf_loop; raise min_kernel to 5.17 or stop using the feature
}
