package gen

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

func testOptions(t testing.TB, n int) Options {
	t.Helper()
	root, err := FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	ts, skipped, err := LoadTemplates(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range skipped {
		t.Logf("template skipped: %s", s)
	}
	return Options{N: n, Templates: ts}
}

// TestWritePackages generates a small repository and checks that every
// artifact is a sound package: it reads back safely, its manifest and
// contents agree, and lint finds no error.
func TestWritePackages(t *testing.T) {
	ctx := context.Background()
	opts := testOptions(t, 20)
	dir := t.TempDir()
	st, err := WritePackages(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if st.Files != 20 {
		t.Fatalf("wrote %d files, want 20", st.Files)
	}
	specs, err := Plan(opts)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, s := range specs {
		names[s.Name] = true
		t.Run(s.Name+"@"+s.Version, func(t *testing.T) {
			p := filepath.Join(dir, s.RelPath())
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			// Sizes aim at [MinSize, MaxSize] compressed; allow for the
			// compression ratio's spread.
			if fi.Size() < DefaultMinSize/2 || fi.Size() > DefaultMaxSize*3/2 {
				t.Errorf("artifact is %d bytes, aimed at %d (range %d–%d)", fi.Size(), s.Size, DefaultMinSize, DefaultMaxSize)
			}
			c, err := pkgfmt.OpenArtifact(ctx, p, pkgfmt.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			m, probs := parseManifest(c)
			if m == nil {
				t.Fatalf("no manifest: %v", probs)
			}
			probs = append(probs, pkgfmt.CheckContents(m, c)...)
			d := pkgfmt.Describe(ctx, c, pkgfmt.LintOptions{})
			probs = append(probs, d.Problems...)
			if len(d.Objects) == 0 || len(d.Objects[0].Programs) == 0 {
				t.Errorf("inspection found no object or no program: %+v", d.Objects)
			}
			for _, pr := range probs {
				if pr.Severity == pkgfmt.SeverityError {
					t.Errorf("lint: %s %s: %s (%s)", pr.File, pr.Field, pr.Message, pr.Code)
				}
			}
			if m.Name != s.Name || m.Version != s.Version {
				t.Errorf("manifest is %s@%s, want %s@%s", m.Name, m.Version, s.Name, s.Version)
			}
		})
	}
	if len(names) != 2 {
		t.Errorf("%d package names for 20 versions, want 2", len(names))
	}
}

// TestDeterministic checks that an artifact and a chart are the same
// bytes however often they are written.
func TestDeterministic(t *testing.T) {
	opts := testOptions(t, 3)
	specs, err := Plan(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		write func(io.Writer, Spec, Options) error
	}{{"artifact", WriteArtifact}, {"chart", WriteChart}} {
		t.Run(tc.name, func(t *testing.T) {
			var a, b bytes.Buffer
			if err := tc.write(&a, specs[2], opts); err != nil {
				t.Fatal(err)
			}
			if err := tc.write(&b, specs[2], opts); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Error("two writes differ")
			}
		})
	}
}

// TestWriteCharts checks that every chart holds Chart.yaml under its
// name, and that charts weigh what the artifacts weigh.
func TestWriteCharts(t *testing.T) {
	ctx := context.Background()
	opts := testOptions(t, 10)
	dir := t.TempDir()
	cst, err := WriteCharts(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	pst, err := WritePackages(ctx, t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if r := float64(cst.Bytes) / float64(pst.Bytes); r < 0.9 || r > 1.1 {
		t.Errorf("charts weigh %d bytes, artifacts %d: want within 10%%", cst.Bytes, pst.Bytes)
	}
	specs, _ := Plan(opts)
	for _, s := range specs {
		f, err := os.Open(filepath.Join(dir, s.ChartName()))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(zr)
		var chart string
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", s.ChartName(), err)
			}
			if h.Name == s.Name+"/Chart.yaml" {
				b, _ := io.ReadAll(tr)
				chart = string(b)
			}
		}
		f.Close()
		if !strings.Contains(chart, "name: "+s.Name+"\n") || !strings.Contains(chart, "version: "+s.Version+"\n") {
			t.Errorf("%s: Chart.yaml is %q", s.ChartName(), chart)
		}
	}
}

// TestPayloadRatio checks that payloads compress about 3:1.
func TestPayloadRatio(t *testing.T) {
	for _, n := range []int{30 << 10, 600 << 10} {
		p := Payload(newRand(1, 2), n)
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zw.Write(p)
		zw.Close()
		if r := float64(n) / float64(b.Len()); r < 2.2 || r > 4 {
			t.Errorf("payload of %d bytes compresses %.2f:1, want about 3:1", n, r)
		}
	}
}

func TestExtra(t *testing.T) {
	opts := testOptions(t, 20)
	e, err := Extra(opts, 1)
	if err != nil {
		t.Fatal(err)
	}
	specs, _ := Plan(opts)
	for _, s := range specs {
		if s.Name == e.Name {
			t.Fatalf("extra package %s is also in the plan", e.Name)
		}
	}
	if !strings.HasPrefix(e.Name, "extra-0001-") || e.Index != 21 {
		t.Errorf("extra is %+v", e)
	}
}

func BenchmarkPayload(b *testing.B) {
	r := newRand(1, 2)
	b.SetBytes(300 << 10)
	for b.Loop() {
		Payload(r, 300<<10)
	}
}

// BenchmarkWriteArtifact measures generating one artifact of about 40 KB
// (the mean size), mostly gzip at best compression.
func BenchmarkWriteArtifact(b *testing.B) {
	opts := testOptions(b, 1)
	specs, _ := Plan(opts)
	s := specs[0]
	s.Size = 40 << 10
	for b.Loop() {
		if err := WriteArtifact(io.Discard, s, opts); err != nil {
			b.Fatal(err)
		}
	}
}
