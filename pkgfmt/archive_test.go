package pkgfmt

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testEntry describes one entry of a test archive, hostile or not.
type testEntry struct {
	name string
	typ  byte // tar type flag; for zip: tar.TypeDir, tar.TypeReg or tar.TypeSymlink
	mode int64
	data string
	link string
}

func tarDir(name string) testEntry { return testEntry{name: name, typ: tar.TypeDir, mode: 0o755} }
func tarReg(name, data string) testEntry {
	return testEntry{name: name, typ: tar.TypeReg, mode: 0o644, data: data}
}
func tarExe(name, data string) testEntry {
	return testEntry{name: name, typ: tar.TypeReg, mode: 0o755, data: data}
}
func tarSpecial(name string, t byte) testEntry {
	return testEntry{name: name, typ: t, mode: 0o644, link: "target"}
}

// makeTestTarGz writes entries as a .tar.gz exactly as given: no checks, so
// tests can build any hostile archive.
func makeTestTarGz(t testing.TB, entries ...testEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Linkname: e.link, Format: tar.FormatPAX}
		if e.typ == tar.TypeReg {
			h.Size = int64(len(e.data))
		}
		if e.typ == tar.TypeXGlobalHeader {
			h = &tar.Header{Typeflag: e.typ, PAXRecords: map[string]string{"comment": "x"}, Format: tar.FormatPAX}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("%s: %v", e.name, err)
		}
		if _, err := io.WriteString(tw, e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// makeTestZip writes entries as a .zip exactly as given.
func makeTestZip(t testing.TB, entries ...testEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		switch e.typ {
		case tar.TypeDir:
			h.SetMode(fs.ModeDir | 0o755)
		case tar.TypeSymlink:
			h.SetMode(fs.ModeSymlink | 0o777)
			e.data = e.link
		case tar.TypeFifo:
			h.SetMode(fs.ModeNamedPipe | 0o644)
		case tar.TypeChar:
			h.SetMode(fs.ModeDevice | fs.ModeCharDevice | 0o644)
		case tar.TypeBlock:
			h.SetMode(fs.ModeDevice | 0o644)
		default:
			h.SetMode(fs.FileMode(e.mode))
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, e.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func readTestArtifact(name string, data []byte, lim Limits) (*Contents, error) {
	return ReadArtifact(context.Background(), name, bytes.NewReader(data), int64(len(data)), lim)
}

// checkEntryErr asserts err is an *EntryError of kind want naming entry.
func checkEntryErr(t *testing.T, err, want error, entry string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
	var ee *EntryError
	if !errors.As(err, &ee) {
		t.Fatalf("error %v is not an *EntryError", err)
	}
	if ee.Entry != entry {
		t.Errorf("entry = %q, want %q (error %v)", ee.Entry, entry, err)
	}
	if !strings.Contains(err.Error(), want.Error()) {
		t.Errorf("message %q does not say %q", err, want)
	}
}

func TestReadArtifactGood(t *testing.T) {
	want := []File{
		{Path: "README.md", Mode: 0o644, Data: []byte("# hi\n")},
		{Path: "bin/run", Mode: 0o755, Data: []byte("#!/bin/sh\n")},
		{Path: "x.bpf.o", Mode: 0o644, Data: []byte("ELF")},
	}
	tests := []struct {
		name, file string
		data       []byte
	}{
		{"tar.gz", "l3af_x.tar.gz", makeTestTarGz(t, tarDir("l3af_x/"), tarReg("l3af_x/x.bpf.o", "ELF"), tarReg("l3af_x/README.md", "# hi\n"), tarDir("l3af_x/bin/"), tarExe("l3af_x/bin/run", "#!/bin/sh\n"))},
		{"tar.gz with ./ prefix", "l3af_x.tar.gz", makeTestTarGz(t, tarDir("./l3af_x/"), tarReg("./l3af_x/README.md", "# hi\n"), tarDir("./l3af_x/bin"), tarExe("./l3af_x/bin/run", "#!/bin/sh\n"), tarReg("./l3af_x/x.bpf.o", "ELF"))},
		{"zip", "l3af_x.zip", makeTestZip(t, tarDir("l3af_x/"), tarReg("l3af_x/README.md", "# hi\n"), tarDir("l3af_x/bin/"), tarExe("l3af_x/bin/run", "#!/bin/sh\n"), tarReg("l3af_x/x.bpf.o", "ELF"))},
		{"directory entry creates its parents", "l3af_x.zip", makeTestZip(t, tarDir("l3af_x/bin/"), tarReg("l3af_x/README.md", "# hi\n"), tarExe("l3af_x/bin/run", "#!/bin/sh\n"), tarReg("l3af_x/x.bpf.o", "ELF"))},
		{"path in name", "some/dir/l3af_x.tar.gz", makeTestTarGz(t, tarDir("l3af_x/"), tarReg("l3af_x/x.bpf.o", "ELF"), tarReg("l3af_x/README.md", "# hi\n"), tarDir("l3af_x/bin/"), tarExe("l3af_x/bin/run", "#!/bin/sh\n"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := readTestArtifact(tt.file, tt.data, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if c.Stem != "l3af_x" || c.Name != tt.file {
				t.Errorf("stem %q, name %q", c.Stem, c.Name)
			}
			if diff := cmp.Diff(want, c.Files); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			if f, ok := c.File("bin/run"); !ok || f.Mode != 0o755 {
				t.Errorf("File(bin/run) = %v, %v", f, ok)
			}
			if _, ok := c.File("nope"); ok {
				t.Error("File(nope) found")
			}
		})
	}
}

func TestReadArtifactRejects(t *testing.T) {
	const s = "pkg/"
	top := tarDir(s)
	tests := []struct {
		name  string
		file  string // default pkg.tar.gz
		data  []byte
		lim   Limits
		want  error
		entry string
	}{
		{"dotdot", "", makeTestTarGz(t, top, tarReg("pkg/../evil", "x")), Limits{}, ErrPathTraversal, "pkg/../evil"},
		{"dotdot at start", "", makeTestTarGz(t, top, tarReg("../evil", "x")), Limits{}, ErrPathTraversal, "../evil"},
		{"dotdot inside a name", "", makeTestTarGz(t, top, tarReg("pkg/a..b", "x")), Limits{}, ErrPathTraversal, "pkg/a..b"},
		{"absolute", "", makeTestTarGz(t, top, tarReg("/etc/passwd", "x")), Limits{}, ErrAbsolutePath, "/etc/passwd"},
		{"backslash", "", makeTestTarGz(t, top, tarReg(`pkg\evil`, "x")), Limits{}, ErrBadPath, `pkg\evil`},
		{"control character", "", makeTestTarGz(t, top, tarReg("pkg/a\x01b", "x")), Limits{}, ErrBadPath, "pkg/a\x01b"},
		{"empty component", "", makeTestTarGz(t, top, tarReg("pkg//a", "x")), Limits{}, ErrBadPath, "pkg//a"},
		{"symlink", "", makeTestTarGz(t, top, tarSpecial("pkg/link", tar.TypeSymlink)), Limits{}, ErrLink, "pkg/link"},
		{"hardlink", "", makeTestTarGz(t, top, tarSpecial("pkg/link", tar.TypeLink)), Limits{}, ErrLink, "pkg/link"},
		{"char device", "", makeTestTarGz(t, top, tarSpecial("pkg/null", tar.TypeChar)), Limits{}, ErrSpecialFile, "pkg/null"},
		{"block device", "", makeTestTarGz(t, top, tarSpecial("pkg/sda", tar.TypeBlock)), Limits{}, ErrSpecialFile, "pkg/sda"},
		{"fifo", "", makeTestTarGz(t, top, tarSpecial("pkg/fifo", tar.TypeFifo)), Limits{}, ErrSpecialFile, "pkg/fifo"},
		{"pax global header", "", makeTestTarGz(t, testEntry{typ: tar.TypeXGlobalHeader}, top), Limits{}, ErrSpecialFile, "GlobalHead.0.0"},
		{"duplicate", "", makeTestTarGz(t, top, tarReg("pkg/a", "1"), tarReg("pkg/a", "2")), Limits{}, ErrDuplicate, "pkg/a"},
		{"duplicate directory", "", makeTestTarGz(t, top, top), Limits{}, ErrDuplicate, "pkg/"},
		{"duplicate by case", "", makeTestTarGz(t, top, tarReg("pkg/README.md", "1"), tarReg("pkg/readme.md", "2")), Limits{}, ErrDuplicate, "pkg/readme.md"},
		{"file and directory", "", makeTestTarGz(t, top, tarReg("pkg/a", "1"), tarDir("pkg/a/")), Limits{}, ErrDuplicate, "pkg/a/"},
		{"parent is a file", "", makeTestTarGz(t, top, tarReg("pkg/a", "1"), tarReg("pkg/a/b", "2")), Limits{}, ErrBadPath, "pkg/a/b"},
		{"too many entries", "", makeTestTarGz(t, top, tarReg("pkg/a", ""), tarReg("pkg/b", ""), tarReg("pkg/c", "")), Limits{MaxEntries: 3}, ErrTooManyEntries, "pkg/c"},
		{"file too large", "", makeTestTarGz(t, top, tarReg("pkg/a", strings.Repeat("x", 11))), Limits{MaxFileSize: 10}, ErrTooLarge, "pkg/a"},
		{"total too large", "", makeTestTarGz(t, top, tarReg("pkg/a", strings.Repeat("x", 8)), tarReg("pkg/b", strings.Repeat("x", 8))), Limits{MaxTotalSize: 15}, ErrTooLarge, "pkg/b"},
		{"manifest too large", "", makeTestTarGz(t, top, tarReg("pkg/"+ManifestFile, strings.Repeat("#", 20))), Limits{MaxManifestSize: 10}, ErrTooLarge, "pkg/" + ManifestFile},
		{"archive too large", "", makeTestTarGz(t, top), Limits{MaxArchiveSize: 10}, ErrTooLarge, ""},
		{"wrong top-level", "", makeTestTarGz(t, tarDir("other/"), tarReg("other/a", "x")), Limits{}, ErrTopLevel, "other/"},
		{"second top-level", "", makeTestTarGz(t, top, tarReg("pkg/a", "x"), tarDir("other/")), Limits{}, ErrTopLevel, "other/"},
		{"file at top level", "", makeTestTarGz(t, top, tarReg("README.md", "x")), Limits{}, ErrTopLevel, "README.md"},
		{"top level is a file", "", makeTestTarGz(t, tarReg("pkg", "x")), Limits{}, ErrTopLevel, "pkg"},
		{"empty archive", "", makeTestTarGz(t), Limits{}, ErrTopLevel, ""},
		{"file before top directory", "", makeTestTarGz(t, tarReg("pkg/a", "x"), top), Limits{}, ErrEntryOrder, "pkg/a"},
		{"missing top-level directory entry", "", makeTestTarGz(t, tarReg("pkg/a", "x")), Limits{}, ErrTopLevel, "pkg/a"},
		{"zip missing top-level directory entry", "pkg.zip", makeTestZip(t, tarReg("pkg/a", "x")), Limits{}, ErrTopLevel, "pkg/a"},
		{"file before its directory", "", makeTestTarGz(t, top, tarReg("pkg/sub/a", "x"), tarDir("pkg/sub/")), Limits{}, ErrEntryOrder, "pkg/sub/a"},
		{"not gzip", "", []byte("plain text, not an archive"), Limits{}, ErrFormat, ""},
		{"truncated", "", makeTestTarGz(t, top, tarReg("pkg/a", strings.Repeat("x", 5000)))[:60], Limits{}, ErrFormat, ""},
		{"unknown suffix", "pkg.tgz", makeTestTarGz(t, top), Limits{}, ErrFormat, ""},
		{"stem not allowed", "p+k.tar.gz", makeTestTarGz(t, top), Limits{}, ErrTopLevel, ""},

		{"zip dotdot", "pkg.zip", makeTestZip(t, top, tarReg("pkg/../../evil", "x")), Limits{}, ErrPathTraversal, "pkg/../../evil"},
		{"zip absolute", "pkg.zip", makeTestZip(t, top, tarReg("/evil", "x")), Limits{}, ErrAbsolutePath, "/evil"},
		{"zip drive letter", "pkg.zip", makeTestZip(t, top, tarReg("C:/evil", "x")), Limits{}, ErrAbsolutePath, "C:/evil"},
		{"zip backslash", "pkg.zip", makeTestZip(t, top, tarReg(`pkg\..\evil`, "x")), Limits{}, ErrPathTraversal, `pkg\..\evil`},
		{"zip symlink", "pkg.zip", makeTestZip(t, top, testEntry{name: "pkg/link", typ: tar.TypeSymlink, link: "/etc/passwd"}), Limits{}, ErrLink, "pkg/link"},
		{"zip fifo", "pkg.zip", makeTestZip(t, top, testEntry{name: "pkg/fifo", typ: tar.TypeFifo}), Limits{}, ErrSpecialFile, "pkg/fifo"},
		{"zip duplicate", "pkg.zip", makeTestZip(t, top, tarReg("pkg/a", "1"), tarReg("pkg/a", "2")), Limits{}, ErrDuplicate, "pkg/a"},
		{"zip directories differ in case", "pkg.zip", makeTestZip(t, tarDir("pkg/Sub/"), tarReg("pkg/Sub/a", "1"), tarDir("pkg/sub/x/")), Limits{}, ErrDuplicate, "pkg/sub/x/"},
		{"zip without directory entries", "pkg.zip", makeTestZip(t, tarReg("pkg/a", "x")), Limits{}, ErrEntryOrder, "pkg/a"},
		{"zip too many entries", "pkg.zip", makeTestZip(t, top, tarReg("pkg/a", ""), tarReg("pkg/b", ""), tarReg("pkg/c", "")), Limits{MaxEntries: 3}, ErrTooManyEntries, ""},
		{"zip file too large", "pkg.zip", makeTestZip(t, top, tarReg("pkg/a", strings.Repeat("x", 11))), Limits{MaxFileSize: 10}, ErrTooLarge, "pkg/a"},
		{"zip total too large", "pkg.zip", makeTestZip(t, top, tarReg("pkg/a", strings.Repeat("x", 8)), tarReg("pkg/b", strings.Repeat("x", 8))), Limits{MaxTotalSize: 15}, ErrTooLarge, "pkg/b"},
		{"zip char device", "pkg.zip", makeTestZip(t, top, testEntry{name: "pkg/null", typ: tar.TypeChar}), Limits{}, ErrSpecialFile, "pkg/null"},
		{"zip block device", "pkg.zip", makeTestZip(t, top, testEntry{name: "pkg/sda", typ: tar.TypeBlock}), Limits{}, ErrSpecialFile, "pkg/sda"},
		{"zip empty archive", "pkg.zip", makeTestZip(t), Limits{}, ErrTopLevel, ""},
		{"zip wrong top-level", "pkg.zip", makeTestZip(t, tarDir("other/"), tarReg("other/a", "x")), Limits{}, ErrTopLevel, "other/"},
		{"zip file at top level", "pkg.zip", makeTestZip(t, top, tarReg("README.md", "x")), Limits{}, ErrTopLevel, "README.md"},
		{"zip top level is a file", "pkg.zip", makeTestZip(t, tarReg("pkg", "x")), Limits{}, ErrTopLevel, "pkg"},
		{"zip duplicate by case", "pkg.zip", makeTestZip(t, top, tarReg("pkg/README.md", "1"), tarReg("pkg/readme.md", "2")), Limits{}, ErrDuplicate, "pkg/readme.md"},
		{"zip manifest too large", "pkg.zip", makeTestZip(t, top, tarReg("pkg/"+ManifestFile, strings.Repeat("#", 20))), Limits{MaxManifestSize: 10}, ErrTooLarge, "pkg/" + ManifestFile},
		{"zip archive too large", "pkg.zip", makeTestZip(t, top), Limits{MaxArchiveSize: 10}, ErrTooLarge, ""},
		{"zip second top-level", "pkg.zip", makeTestZip(t, top, tarDir("other/"), tarReg("other/a", "x")), Limits{}, ErrTopLevel, "other/"},
		{"zip claims many entries", "pkg.zip", claimRecords(makeTestZip(t, top), 5000), Limits{}, ErrTooManyEntries, ""},
		{"zip not a zip", "pkg.zip", []byte("PK not really"), Limits{}, ErrFormat, ""},
		{"zip lying size", "pkg.zip", lyingSizeZip(t), Limits{}, ErrFormat, "pkg/a"},
		{"zip encrypted", "pkg.zip", rawEntryZip(t, "pkg/a", 0, 0x1), Limits{}, ErrFormat, "pkg/a"},
		{"zip bzip2", "pkg.zip", rawEntryZip(t, "pkg/a", 12, 0), Limits{}, ErrFormat, "pkg/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := tt.file
			if name == "" {
				name = "pkg.tar.gz"
			}
			c, err := readTestArtifact(name, tt.data, tt.lim)
			if err == nil {
				t.Fatalf("accepted: %+v", c.Files)
			}
			checkEntryErr(t, err, tt.want, tt.entry)
		})
	}
}

// lyingSizeZip is a zip whose one entry claims 1 byte and holds 100.
func lyingSizeZip(t *testing.T) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	zw.Create("pkg/")
	data := bytes.Repeat([]byte("x"), 100)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "pkg/a", Method: zip.Store, CRC32: 0, CompressedSize64: 100, UncompressedSize64: 1})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	zw.Close()
	return b.Bytes()
}

// claimRecords patches the end of central directory of z to announce n
// records, as a zip built to exhaust memory would.
func claimRecords(z []byte, n uint16) []byte {
	z = bytes.Clone(z)
	i := bytes.LastIndex(z, []byte("PK\x05\x06"))
	binary.LittleEndian.PutUint16(z[i+8:], n)
	binary.LittleEndian.PutUint16(z[i+10:], n)
	return z
}

// rawEntryZip is a zip with one entry of the given method and flags.
func rawEntryZip(t *testing.T, name string, method uint16, flags uint16) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	zw.Create("pkg/")
	w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: method, Flags: flags, CompressedSize64: 3, UncompressedSize64: 3})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("abc"))
	zw.Close()
	return b.Bytes()
}

// gzipMemberOf returns one gzip member holding data.
func gzipMemberOf(t testing.TB, data []byte) []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zw.Write(data)
	zw.Close()
	return b.Bytes()
}

// TestReadArtifactBomb feeds a 1 GiB file of zeros, gzip'd to about a
// megabyte, and checks it is refused without allocating anything near
// its size — both when the tar header states the size and when the size
// is within the per-file limit but the total is not.
func TestReadArtifactBomb(t *testing.T) {
	const gib = 1 << 30
	var hdr bytes.Buffer
	tw := tar.NewWriter(&hdr)
	tw.WriteHeader(&tar.Header{Name: "pkg/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "pkg/zeros", Typeflag: tar.TypeReg, Mode: 0o644, Size: gib})
	tw.Flush()
	zeros := gzipMemberOf(t, make([]byte, 1<<20))
	var bomb bytes.Buffer
	bomb.Write(gzipMemberOf(t, hdr.Bytes()))
	for range gib >> 20 {
		bomb.Write(zeros) // gzip members concatenate: 1 GiB of zeros
	}
	bomb.Write(gzipMemberOf(t, make([]byte, 1024))) // end of archive
	t.Logf("bomb: %d bytes compressed, %d uncompressed", bomb.Len(), gib)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := readTestArtifact("pkg.tar.gz", bomb.Bytes(), Limits{})
	runtime.ReadMemStats(&after)
	checkEntryErr(t, err, ErrTooLarge, "pkg/zeros")
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("allocated %d bytes reading the bomb", alloc)
	} else {
		t.Logf("refused after allocating %d bytes: %v", alloc, err)
	}

	// Per-file limit raised to 2 GiB: the total limit must stop it while
	// reading, counting decompressed bytes.
	runtime.ReadMemStats(&before)
	_, err = readTestArtifact("pkg.tar.gz", bomb.Bytes(), Limits{MaxFileSize: 2 * gib, MaxTotalSize: 8 << 20})
	runtime.ReadMemStats(&after)
	checkEntryErr(t, err, ErrTooLarge, "pkg/zeros")
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("allocated %d bytes reading the bomb", alloc)
	}
}

func TestReadArtifactCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	data := makeTestTarGz(t, tarDir("pkg/"), tarReg("pkg/a", "x"))
	_, err := ReadArtifact(ctx, "pkg.tar.gz", bytes.NewReader(data), int64(len(data)), Limits{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
}

func TestOpenArtifact(t *testing.T) {
	d := t.TempDir()
	p := filepath.Join(d, "pkg.tar.gz")
	if err := os.WriteFile(p, makeTestTarGz(t, tarDir("pkg/"), tarReg("pkg/a", "x")), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := OpenArtifact(context.Background(), p, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Files) != 1 || c.Name != p {
		t.Errorf("got %+v", c)
	}
	if _, err := OpenArtifact(context.Background(), filepath.Join(d, "missing.tar.gz"), Limits{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if err := os.Mkdir(filepath.Join(d, "dir.tar.gz"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenArtifact(context.Background(), filepath.Join(d, "dir.tar.gz"), Limits{}); !errors.Is(err, ErrSpecialFile) {
		t.Errorf("directory: %v", err)
	}
}

func TestCheckRelPath(t *testing.T) {
	for _, tt := range []struct {
		p    string
		want error
	}{
		{"a", nil}, {"a/b.o", nil}, {"ünïcode.md", nil},
		{"", ErrBadPath}, {"/a", ErrAbsolutePath}, {"c:/a", ErrAbsolutePath}, {"..", ErrPathTraversal},
		{"a/../b", ErrPathTraversal}, {"a/", ErrBadPath}, {"./a", ErrBadPath}, {"a//b", ErrBadPath},
		{`a\b`, ErrBadPath}, {"a\x00b", ErrBadPath}, {"a\nb", ErrBadPath}, {"\xff", ErrBadPath},
		{strings.Repeat("a", 256), ErrBadPath}, {strings.Repeat("a/", 600), ErrBadPath},
	} {
		if err := checkRelPath(tt.p); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("checkRelPath(%q) = %v, want %v", tt.p, err, tt.want)
		}
	}
}

func FuzzReadArtifact(f *testing.F) {
	f.Add(false, makeTestTarGz(f, tarDir("pkg/"), tarReg("pkg/"+ManifestFile, testManifestTOML), tarDir("pkg/sub/"), tarExe("pkg/sub/run", "x")))
	f.Add(false, makeTestTarGz(f, tarDir("pkg/"), tarSpecial("pkg/l", tar.TypeSymlink), tarReg("pkg/../x", "")))
	f.Add(false, makeTestTarGz(f, tarReg("pkg/a", "x"), tarDir("pkg/")))
	f.Add(true, makeTestZip(f, tarDir("pkg/"), tarReg("pkg/"+ManifestFile, testManifestTOML), tarExe("pkg/sub/run", "x")))
	f.Add(true, makeTestZip(f, tarReg("pkg/a", "1"), tarReg("pkg/A", "2"), testEntry{name: "pkg/l", typ: tar.TypeSymlink, link: "/"}))
	f.Fuzz(func(t *testing.T, isZip bool, data []byte) {
		name := "pkg.tar.gz"
		if isZip {
			name = "pkg.zip"
		}
		lim := Limits{MaxEntries: 50, MaxFileSize: 1 << 20, MaxTotalSize: 4 << 20}
		c, err := readTestArtifact(name, data, lim)
		if err != nil {
			var ee *EntryError
			if !errors.As(err, &ee) {
				t.Fatalf("error %v is not an *EntryError", err)
			}
			return
		}
		// What a reader accepts is safe and re-packs to something it
		// accepts again, with the same files.
		var total int64
		for i, f := range c.Files {
			if err := checkRelPath(f.Path); err != nil {
				t.Fatalf("accepted path %q: %v", f.Path, err)
			}
			if f.Mode != 0o644 && f.Mode != 0o755 {
				t.Fatalf("mode %v", f.Mode)
			}
			if i > 0 && c.Files[i-1].Path >= f.Path {
				t.Fatalf("not sorted: %q, %q", c.Files[i-1].Path, f.Path)
			}
			total += int64(len(f.Data))
		}
		if total > lim.MaxTotalSize || len(c.Files) > lim.MaxEntries {
			t.Fatalf("limits exceeded: %d bytes, %d files", total, len(c.Files))
		}
		var b bytes.Buffer
		if err := WriteArtifact(&b, ArtifactFormat(name), c.Stem, c.Files, zipEpoch); err != nil {
			t.Fatalf("re-pack: %v", err)
		}
		c2, err := readTestArtifact(name, b.Bytes(), Limits{MaxEntries: 1000, MaxFileSize: 1 << 20, MaxTotalSize: 4 << 20})
		if err != nil {
			t.Fatalf("re-read: %v", err)
		}
		if diff := cmp.Diff(c.Files, c2.Files); diff != "" {
			t.Fatalf("re-pack changed files (-want +got):\n%s", diff)
		}
	})
}

type endlessZeros struct{}

func (endlessZeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestAddFileCountsBytes checks the size limits hold against a reader
// that never ends, whatever size the header claimed.
func TestAddFileCountsBytes(t *testing.T) {
	for _, claimed := range []int64{-1, 0, 10} {
		c := newCollector("a.tar.gz", "a", Limits{MaxFileSize: 1 << 20})
		err := c.addFile(context.Background(), "a/zeros", "zeros", false, endlessZeros{}, claimed)
		checkEntryErr(t, err, ErrTooLarge, "a/zeros")
		if len(c.files) != 0 || c.total != 0 {
			t.Errorf("claimed %d: kept %d files, %d bytes", claimed, len(c.files), c.total)
		}
	}
}

// TestReadArtifactFromTools reads artifacts made by GNU tar and Info-ZIP
// the way an author would make them by hand, and checks that what those
// tools extract from a packed artifact is the package.
func TestReadArtifactFromTools(t *testing.T) {
	work := t.TempDir()
	writeTestTree(t, filepath.Join(work, "l3af_x"), map[string]string{"README.md": "# x\n", "bpf/x.bpf.o": "ELF", "run*": "#!/bin/sh\n"})
	want := []File{
		{Path: "README.md", Mode: 0o644, Data: []byte("# x\n")},
		{Path: "bpf/x.bpf.o", Mode: 0o644, Data: []byte("ELF")},
		{Path: "run", Mode: 0o755, Data: []byte("#!/bin/sh\n")},
	}
	for _, tt := range []struct {
		tool, artifact string
		args           []string
	}{
		{"tar", "l3af_x.tar.gz", []string{"-czf", "l3af_x.tar.gz", "l3af_x"}},
		{"tar", "l3af_x.tar.gz", []string{"--format=posix", "-czf", "l3af_x.tar.gz", "l3af_x"}},
		{"zip", "l3af_x.zip", []string{"-qr", "l3af_x.zip", "l3af_x"}},
	} {
		t.Run(strings.Join(append([]string{tt.tool}, tt.args...), " "), func(t *testing.T) {
			if _, err := exec.LookPath(tt.tool); err != nil {
				t.Skipf("%s not installed", tt.tool)
			}
			os.Remove(filepath.Join(work, tt.artifact))
			cmd := exec.Command(tt.tool, tt.args...)
			cmd.Dir = work
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			c, err := OpenArtifact(context.Background(), filepath.Join(work, tt.artifact), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, c.Files); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
		})
	}
	for _, tt := range []struct {
		name, format string
		extract      []string
	}{
		{"tar", ".tar.gz", []string{"tar", "-xzf"}},
		{"unzip", ".zip", []string{"unzip", "-q"}},
	} {
		t.Run("extract with "+tt.name, func(t *testing.T) {
			if _, err := exec.LookPath(tt.extract[0]); err != nil {
				t.Skipf("%s not installed", tt.extract[0])
			}
			dest := t.TempDir()
			art := filepath.Join(dest, "pkg"+tt.format)
			var b bytes.Buffer
			noErr(t, WriteArtifact(&b, tt.format, "pkg", want, time.Unix(1700000000, 0)))
			noErr(t, os.WriteFile(art, b.Bytes(), 0o644))
			cmd := exec.Command(tt.extract[0], append(tt.extract[1:], art)...)
			cmd.Dir = dest
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			c, err := OpenDir(context.Background(), filepath.Join(dest, "pkg"), Limits{})
			noErr(t, err)
			if diff := cmp.Diff(want, c.Files); diff != "" {
				t.Errorf("extracted files (-want +got):\n%s", diff)
			}
			fi, err := os.Stat(filepath.Join(dest, "pkg", "README.md"))
			noErr(t, err)
			if !fi.ModTime().Equal(time.Unix(1700000000, 0)) {
				t.Errorf("mtime %v", fi.ModTime())
			}
		})
	}
}
