package pkgfmt

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// FuzzDescribe lints hostile artifacts: whatever the bytes, reading and
// describing them never panics, and a description is always complete.
func FuzzDescribe(f *testing.F) {
	for _, p := range []*lintPkg{newLintPkg(f), lintCasesPkg(f)} {
		for _, art := range []string{"demo.tar.gz", "demo.zip"} {
			p.m.Artifact = art
			var buf bytes.Buffer
			c, err := OpenDir(context.Background(), p.write(f), Limits{})
			if err != nil {
				f.Fatal(err)
			}
			if err := WriteArtifact(&buf, ArtifactFormat(art), "demo", c.Files, time.Unix(0, 0)); err != nil {
				f.Fatal(err)
			}
			f.Add(art == "demo.zip", buf.Bytes())
		}
	}
	// A real package with test vectors, captures and typed map entries.
	if c, err := OpenDir(context.Background(), "../testdata/packages/ratelimiting-1.1.0", Limits{}); err == nil {
		var buf bytes.Buffer
		if err := WriteArtifact(&buf, ".tar.gz", "l3af_ratelimiting", c.Files, time.Unix(0, 0)); err == nil {
			f.Add(false, buf.Bytes())
		}
	}
	lim := Limits{MaxEntries: 64, MaxFileSize: 1 << 20, MaxTotalSize: 4 << 20}
	f.Fuzz(func(t *testing.T, zip bool, data []byte) {
		name := "demo.tar.gz"
		if zip {
			name = "demo.zip"
		}
		c, err := ReadArtifact(context.Background(), name, bytes.NewReader(data), int64(len(data)), lim)
		if err != nil {
			return
		}
		d := Describe(context.Background(), c, LintOptions{Limits: lim})
		if d == nil || d.Objects == nil || d.Files == nil {
			t.Fatal("incomplete description")
		}
		if len(d.Files) != len(c.Files) {
			t.Fatalf("%d files described, %d read", len(d.Files), len(c.Files))
		}
		for _, p := range d.Problems {
			if p.Package == "" || p.Code == "" || p.Severity == "" {
				t.Fatalf("incomplete problem %+v", p)
			}
		}
	})
}
