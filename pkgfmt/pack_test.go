package pkgfmt

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// makeTestSource writes a small, valid package source directory.
func makeTestSource(t testing.TB, manifest string) string {
	t.Helper()
	d := t.TempDir()
	writeTestTree(t, d, map[string]string{
		ManifestFile:          manifest,
		"README.md":           "# ratelimiting\n",
		"ratelimiting.bpf.o":  "\x7fELF not really",
		"ratelimiting*":       "#!/bin/sh\necho start\n",
		"config/limits.json":  `{"rate": 10}`,
		"config/deep/x.txt":   "x",
		"LICENSE":             "GPL-2.0-only OR BSD-2-Clause\n",
		"a-file-sorting.last": "after a-dir? no: 'a-' < 'con'",
	})
	return d
}

func packTestBytes(t testing.TB, src string, opts PackOptions) []byte {
	t.Helper()
	out, err := Pack(context.Background(), src, t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestPackDeterministic(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	src := makeTestSource(t, testManifestTOML)
	first := packTestBytes(t, src, PackOptions{})
	if second := packTestBytes(t, src, PackOptions{}); !bytes.Equal(first, second) {
		t.Fatal("packing twice gave different bytes")
	}
	// Times, permissions beyond the x bit and the order files were
	// created in do not matter.
	later := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		noErr(t, os.Chtimes(p, later, later))
		return nil
	})
	noErr(t, os.Chmod(filepath.Join(src, "README.md"), 0o600))
	noErr(t, os.Chmod(filepath.Join(src, "ratelimiting"), 0o700))
	if third := packTestBytes(t, src, PackOptions{}); !bytes.Equal(first, third) {
		t.Fatal("packing after touching files gave different bytes")
	}
	copySrc := t.TempDir()
	c, err := OpenDir(context.Background(), src, Limits{})
	noErr(t, err)
	for i := len(c.Files) - 1; i >= 0; i-- { // reverse creation order
		f := c.Files[i]
		name := f.Path
		if f.Mode&0o100 != 0 {
			name += "*"
		}
		writeTestTree(t, copySrc, map[string]string{name: string(f.Data)})
	}
	if fourth := packTestBytes(t, copySrc, PackOptions{}); !bytes.Equal(first, fourth) {
		t.Fatal("packing a copy gave different bytes")
	}
	t.Logf("artifact: %d bytes", len(first))
}

func TestPackModTime(t *testing.T) {
	src := makeTestSource(t, testManifestTOML)
	tests := []struct {
		name  string
		epoch string
		opt   time.Time
		want  time.Time
	}{
		{"default is unix 0", "", time.Time{}, time.Unix(0, 0)},
		{"SOURCE_DATE_EPOCH", "1700000000", time.Time{}, time.Unix(1700000000, 0)},
		{"option wins", "1700000000", time.Unix(1600000000, 999), time.Unix(1600000000, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SOURCE_DATE_EPOCH", tt.epoch)
			data := packTestBytes(t, src, PackOptions{ModTime: tt.opt})
			for _, h := range readTarHeaders(t, data) {
				if !h.ModTime.Equal(tt.want) {
					t.Fatalf("%s: mtime %v, want %v", h.Name, h.ModTime, tt.want)
				}
			}
		})
	}
	t.Run("invalid SOURCE_DATE_EPOCH", func(t *testing.T) {
		t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
		if _, err := Pack(context.Background(), src, t.TempDir(), PackOptions{}); err == nil || !strings.Contains(err.Error(), "SOURCE_DATE_EPOCH") {
			t.Errorf("error = %v", err)
		}
	})
}

func readTarHeaders(t testing.TB, data []byte) []*tar.Header {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	noErr(t, err)
	tr := tar.NewReader(zr)
	var hs []*tar.Header
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return hs
		}
		noErr(t, err)
		hs = append(hs, h)
	}
}

func TestPackLayout(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	data := packTestBytes(t, makeTestSource(t, testManifestTOML), PackOptions{})
	zr, err := gzip.NewReader(bytes.NewReader(data))
	noErr(t, err)
	if zr.Name != "" || !zr.ModTime.IsZero() || zr.Comment != "" || zr.Extra != nil {
		t.Errorf("gzip header carries %+v", zr.Header)
	}
	var got []string
	for _, h := range readTarHeaders(t, data) {
		got = append(got, fmt.Sprintf("%c %o %s", h.Typeflag, h.Mode, h.Name))
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || h.Format != tar.FormatUSTAR {
			t.Errorf("%s: uid %d gid %d uname %q gname %q format %v", h.Name, h.Uid, h.Gid, h.Uname, h.Gname, h.Format)
		}
	}
	want := []string{
		"5 755 l3af_ratelimiting/",
		"0 644 l3af_ratelimiting/LICENSE",
		"0 644 l3af_ratelimiting/README.md",
		"0 644 l3af_ratelimiting/a-file-sorting.last",
		"5 755 l3af_ratelimiting/config/",
		"5 755 l3af_ratelimiting/config/deep/",
		"0 644 l3af_ratelimiting/config/deep/x.txt",
		"0 644 l3af_ratelimiting/config/limits.json",
		"0 644 l3af_ratelimiting/" + ManifestFile,
		"0 755 l3af_ratelimiting/ratelimiting",
		"0 644 l3af_ratelimiting/ratelimiting.bpf.o",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
}

// l3afdExtract extracts an artifact the way l3afd's GetArtifacts does
// (l3afd/bpfprogs/bpf.go): by suffix; a name containing ".." or leading
// outside dest is refused; a directory entry is created with its parents
// (MkdirAll); a file is created with the entry's mode and no parents;
// links and other entries are written as files, which fails our checks
// below. Afterwards the artifact's stem, the name up to its first dot,
// must be a directory under dest: that is where l3afd looks.
func l3afdExtract(name string, data []byte, dest string) error {
	validate := func(p string) (string, error) {
		full := filepath.Join(dest, p)
		if strings.Contains(p, "..") || !strings.HasPrefix(full, filepath.Clean(dest)+string(os.PathSeparator)) {
			return "", fmt.Errorf("%s: illegal file path", p)
		}
		return full, nil
	}
	extract := func(p string, isDir bool, mode os.FileMode, r io.Reader) error {
		full, err := validate(p)
		if err != nil {
			return err
		}
		if isDir {
			return os.MkdirAll(full, mode)
		}
		if !mode.IsRegular() {
			return fmt.Errorf("%s: l3afd would write a %v as a plain file", p, mode.Type())
		}
		f, err := os.OpenFile(full, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(f, r)
		return err
	}
	switch {
	case strings.HasSuffix(name, ".tar.gz"):
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return err
		}
		tr := tar.NewReader(zr)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			fi := h.FileInfo()
			if err := extract(h.Name, fi.IsDir(), fi.Mode(), tr); err != nil {
				return err
			}
		}
	case strings.HasSuffix(name, ".zip"):
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return err
		}
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				return err
			}
			err = extract(f.Name, f.FileInfo().IsDir(), f.Mode(), rc)
			rc.Close()
			if err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("%s: unknown artifact format", name)
	}
	stem, _, _ := strings.Cut(name, ".")
	fi, err := os.Stat(filepath.Join(dest, stem))
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", stem)
	}
	return nil
}

func TestPackExtractsWithL3afdRules(t *testing.T) {
	zipManifest := strings.NewReplacer(`"l3af_ratelimiting.tar.gz"`, `"l3af_ratelimiting.zip"`, `["jammy", "noble"]`, `["Windows"]`).Replace(testManifestTOML)
	for _, manifest := range []string{testManifestTOML, zipManifest} {
		m, _ := ParseManifest([]byte(manifest))
		t.Run(m.Artifact, func(t *testing.T) {
			src := makeTestSource(t, manifest)
			data := packTestBytes(t, src, PackOptions{})
			dest := t.TempDir()
			if err := l3afdExtract(m.Artifact, data, dest); err != nil {
				t.Fatalf("l3afd would fail: %v", err)
			}
			root := filepath.Join(dest, m.ArtifactStem())
			fi, err := os.Stat(filepath.Join(root, m.L3afd.CmdStart))
			noErr(t, err)
			if fi.Mode().Perm()&0o111 == 0 {
				t.Errorf("cmd_start extracted as %v", fi.Mode())
			}
			// Extracted tree and source hold the same files.
			want, err := OpenDir(context.Background(), src, Limits{})
			noErr(t, err)
			got, err := OpenDir(context.Background(), root, Limits{})
			noErr(t, err)
			if diff := cmp.Diff(want.Files, got.Files); diff != "" {
				t.Errorf("extracted files (-want +got):\n%s", diff)
			}
			// And the safe reader reads the artifact to the same files.
			c, err := readTestArtifact(m.Artifact, data, Limits{})
			noErr(t, err)
			if diff := cmp.Diff(want.Files, c.Files); diff != "" {
				t.Errorf("read back (-want +got):\n%s", diff)
			}
			if again := packTestBytes(t, src, PackOptions{}); !bytes.Equal(data, again) {
				t.Error("not deterministic")
			}
		})
	}
}

func TestPackIntoSourceDir(t *testing.T) {
	src := makeTestSource(t, testManifestTOML)
	p1, err := Pack(context.Background(), src, src, PackOptions{})
	noErr(t, err)
	first, _ := os.ReadFile(p1)
	p2, err := Pack(context.Background(), src, src, PackOptions{})
	noErr(t, err)
	second, _ := os.ReadFile(p2)
	if !bytes.Equal(first, second) {
		t.Error("re-packing into the source directory packed the previous artifact")
	}
}

func TestPackErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T) string
		check func(t *testing.T, err error)
	}{
		{"no manifest", func(t *testing.T) string { return t.TempDir() },
			func(t *testing.T, err error) {
				if !errors.Is(err, ErrNoManifest) {
					t.Errorf("error = %v", err)
				}
			}},
		{"invalid manifest", func(t *testing.T) string {
			return makeTestSource(t, strings.Replace(testManifestTOML, `"1.2.0"`, `"v1"`, 1)+"licence = 1\n")
		}, wantProblemCodes("manifest.unknown-key", "manifest.version")},
		{"missing files", func(t *testing.T) string {
			d := makeTestSource(t, testManifestTOML)
			noErr(t, os.Remove(filepath.Join(d, "README.md")))
			noErr(t, os.Remove(filepath.Join(d, "ratelimiting.bpf.o")))
			return d
		}, wantProblemCodes("package.missing-file", "package.missing-file")},
		{"empty readme", func(t *testing.T) string {
			d := makeTestSource(t, testManifestTOML)
			noErr(t, os.WriteFile(filepath.Join(d, "README.md"), []byte(" \n"), 0o644))
			return d
		}, wantProblemCodes("package.empty-readme")},
		{"cmd_start not executable", func(t *testing.T) string {
			d := makeTestSource(t, testManifestTOML)
			noErr(t, os.Chmod(filepath.Join(d, "ratelimiting"), 0o644))
			return d
		}, wantProblemCodes("package.not-executable")},
		{"symlink in source", func(t *testing.T) string {
			d := makeTestSource(t, testManifestTOML)
			noErr(t, os.Symlink("/etc/shadow", filepath.Join(d, "shadow")))
			return d
		}, func(t *testing.T, err error) { checkEntryErr(t, err, ErrLink, "shadow") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			p, err := Pack(context.Background(), tt.setup(t), out, PackOptions{})
			if err == nil {
				t.Fatalf("packed %s", p)
			}
			tt.check(t, err)
			if ents, _ := os.ReadDir(out); len(ents) != 0 {
				t.Errorf("left %d files in the output directory", len(ents))
			}
		})
	}
}

func wantProblemCodes(codes ...string) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var me *ManifestError
		if !errors.As(err, &me) {
			t.Fatalf("error %v is not a *ManifestError", err)
		}
		var got []string
		for _, p := range me.Problems {
			if p.Severity == SeverityError {
				got = append(got, p.Code)
			}
		}
		if diff := cmp.Diff(codes, got); diff != "" {
			t.Errorf("problem codes (-want +got):\n%s\n%v", diff, err)
		}
	}
}

func TestWriteArtifactRejects(t *testing.T) {
	f := func(p string) File { return File{Path: p, Mode: 0o644} }
	tests := []struct {
		name, format, stem string
		files              []File
	}{
		{"bad format", ".tar.xz", "x", nil},
		{"stem with dot", ".tar.gz", "x.y", nil},
		{"empty stem", ".zip", "", nil},
		{"unsafe path", ".tar.gz", "x", []File{f("../a")}},
		{"absolute path", ".zip", "x", []File{f("/a")}},
		{"duplicate", ".tar.gz", "x", []File{f("a"), f("a")}},
		{"duplicate by case", ".tar.gz", "x", []File{f("a"), f("A")}},
		{"file and directory", ".tar.gz", "x", []File{f("a"), f("a/b")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := WriteArtifact(io.Discard, tt.format, tt.stem, tt.files, time.Time{}); err == nil {
				t.Error("accepted")
			}
		})
	}
}

// TestPackTestdata packs every example package under testdata/packages
// and reads the artifact back.
func TestPackTestdata(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join("..", "testdata", "packages", "*", "*", ManifestFile))
	more, _ := filepath.Glob(filepath.Join("..", "testdata", "packages", "*", ManifestFile))
	dirs = append(dirs, more...)
	if len(dirs) == 0 {
		t.Skip("no example packages under testdata/packages yet")
	}
	for _, mf := range dirs {
		src := filepath.Dir(mf)
		t.Run(filepath.ToSlash(src), func(t *testing.T) {
			out, err := Pack(context.Background(), src, t.TempDir(), PackOptions{})
			if err != nil {
				if strings.Contains(filepath.ToSlash(src), "bad") {
					t.Skipf("bad package, refused as expected: %v", err)
				}
				t.Fatal(err)
			}
			data, err := os.ReadFile(out)
			noErr(t, err)
			if err := l3afdExtract(filepath.Base(out), data, t.TempDir()); err != nil {
				t.Errorf("l3afd would fail: %v", err)
			}
			if _, err := OpenArtifact(context.Background(), out, Limits{}); err != nil {
				t.Error(err)
			}
		})
	}
}

func BenchmarkPack(b *testing.B) {
	src := makeTestSource(b, testManifestTOML)
	writeTestTree(b, src, map[string]string{"big.bpf.o": strings.Repeat("\x7fELF\x02\x01\x01", 1<<17)}) // 1 MiB
	out := b.TempDir()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Pack(context.Background(), src, out, PackOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadArtifact(b *testing.B) {
	src := makeTestSource(b, testManifestTOML)
	writeTestTree(b, src, map[string]string{"big.bpf.o": strings.Repeat("\x7fELF\x02\x01\x01", 1<<17)})
	data := packTestBytes(b, src, PackOptions{})
	c, err := readTestArtifact("l3af_ratelimiting.tar.gz", data, Limits{})
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for _, f := range c.Files {
		n += int64(len(f.Data))
	}
	b.SetBytes(n) // uncompressed bytes per second
	b.Logf("artifact %d bytes, %d bytes uncompressed", len(data), n)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := readTestArtifact("l3af_ratelimiting.tar.gz", data, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestPackRefusesOverwrite(t *testing.T) {
	ctx := context.Background()
	out := t.TempDir()
	v1, v2 := filepath.Join("..", "testdata", "packages", "ratelimiting-1.0.0"), filepath.Join("..", "testdata", "packages", "ratelimiting-1.1.0")
	p, err := Pack(ctx, v1, out, PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(p)
	if _, err := Pack(ctx, v1, out, PackOptions{}); err != nil {
		t.Fatalf("packing the same bytes again: %v", err)
	}
	var oe *OverwriteError
	if _, err := Pack(ctx, v2, out, PackOptions{}); !errors.As(err, &oe) || oe.Path != p {
		t.Fatalf("another version into the same directory: %v, want an *OverwriteError naming %s", err, p)
	}
	if now, _ := os.ReadFile(p); !bytes.Equal(now, first) {
		t.Error("the refused pack replaced the artifact")
	}
	if ents, _ := os.ReadDir(out); len(ents) != 1 {
		t.Errorf("the refused pack left %d files", len(ents))
	}
	if _, err := Pack(ctx, v2, out, PackOptions{Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	if now, _ := os.ReadFile(p); bytes.Equal(now, first) {
		t.Error("Overwrite did not replace the artifact")
	}
}
