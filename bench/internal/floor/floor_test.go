package floor

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"

	"github.com/ebpfrepo/ebpfrepo/bench/internal/gen"
)

func genOptions(t testing.TB, n int) gen.Options {
	t.Helper()
	root, err := gen.FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	ts, _, err := gen.LoadTemplates(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	return gen.Options{N: n, Templates: ts}
}

// TestRun digests a generated repository and checks the counts and the
// hash against a plain reading of every file.
func TestRun(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := gen.WritePackages(ctx, filepath.Join(dir, "packages"), genOptions(t, 12))
	if err != nil {
		t.Fatal(err)
	}
	// Hidden directories (the build's cache) are not archives to digest.
	if err := os.MkdirAll(filepath.Join(dir, "packages", ".cache"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "packages", ".cache", "x.tar.gz"), []byte("not gzip"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(ctx, []string{dir}, Options{Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != st.Files || res.Bytes != st.Bytes {
		t.Errorf("digested %d files, %d bytes; generated %d, %d", res.Files, res.Bytes, st.Files, st.Bytes)
	}
	if res.Uncompressed < 2*res.Bytes {
		t.Errorf("%d bytes unpacked from %d: want about 3:1", res.Uncompressed, res.Bytes)
	}
	paths, err := Find(dir, Suffixes)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	sum, n, _, err := NewDigester().Reader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if sum != sha256.Sum256(data) || n != int64(len(data)) {
		t.Errorf("digest %x of %d bytes, want %x of %d", sum, n, sha256.Sum256(data), len(data))
	}
}

func TestReaderRejectsGarbage(t *testing.T) {
	if _, _, _, err := NewDigester().Reader(bytes.NewReader([]byte("not an archive"))); err == nil {
		t.Error("garbage digested without error")
	}
}

// BenchmarkDigest measures the floor's per-artifact work: sha256, gunzip
// and untar of one artifact of about the mean size.
func BenchmarkDigest(b *testing.B) {
	opts := genOptions(b, 1)
	specs, _ := gen.Plan(opts)
	s := specs[0]
	s.Size = 40 << 10
	var buf bytes.Buffer
	if err := gen.WriteArtifact(&buf, s, opts); err != nil {
		b.Fatal(err)
	}
	d := NewDigester()
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		if _, _, _, err := d.Reader(bytes.NewReader(buf.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
}
