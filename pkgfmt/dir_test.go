package pkgfmt

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// writeTestTree creates files under dir; a path ending in '*' is executable
// (the '*' is dropped).
func writeTestTree(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for p, data := range files {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(p, "*") {
			p, mode = strings.TrimSuffix(p, "*"), 0o755
		}
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(full, mode); err != nil { // umask
			t.Fatal(err)
		}
	}
}

func TestOpenDir(t *testing.T) {
	d := t.TempDir()
	writeTestTree(t, d, map[string]string{"README.md": "# x\n", "sub/deep/x.bpf.o": "ELF", "run*": "#!/bin/sh\n"})
	if err := os.Mkdir(filepath.Join(d, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(d, "README.md"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := OpenDir(context.Background(), d, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := &Contents{Name: d, Files: []File{
		{Path: "README.md", Mode: 0o644, Data: []byte("# x\n")},
		{Path: "run", Mode: 0o755, Data: []byte("#!/bin/sh\n")},
		{Path: "sub/deep/x.bpf.o", Mode: 0o644, Data: []byte("ELF")},
	}}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("contents (-want +got):\n%s", diff)
	}
}

func TestOpenDirRejects(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, d string)
		lim   Limits
		want  error
		entry string
	}{
		{"symlink inside the tree", func(t *testing.T, d string) {
			writeTestTree(t, d, map[string]string{"a.o": "x"})
			noErr(t, os.Symlink("a.o", filepath.Join(d, "b.o")))
		}, Limits{}, ErrLink, "b.o"},
		{"symlink out of the tree", func(t *testing.T, d string) {
			noErr(t, os.Symlink("/etc/passwd", filepath.Join(d, "passwd")))
		}, Limits{}, ErrLink, "passwd"},
		{"dangling symlink", func(t *testing.T, d string) {
			noErr(t, os.Symlink("nowhere", filepath.Join(d, "x")))
		}, Limits{}, ErrLink, "x"},
		{"symlinked directory", func(t *testing.T, d string) {
			noErr(t, os.Mkdir(filepath.Join(d, "real"), 0o755))
			noErr(t, os.Symlink("/etc", filepath.Join(d, "real", "etc")))
		}, Limits{}, ErrLink, "real/etc"},
		{"fifo", func(t *testing.T, d string) {
			if err := mkfifo(filepath.Join(d, "fifo")); err != nil {
				t.Skip("cannot create a FIFO:", err)
			}
		}, Limits{}, ErrSpecialFile, "fifo"},
		{"hard link inside the tree", func(t *testing.T, d string) {
			writeTestTree(t, d, map[string]string{"a.o": "x"})
			noErr(t, os.Link(filepath.Join(d, "a.o"), filepath.Join(d, "b.o")))
		}, Limits{}, ErrLink, "a.o"},
		{"hard link to a file outside", func(t *testing.T, d string) {
			outside := filepath.Join(t.TempDir(), "secret")
			noErr(t, os.WriteFile(outside, []byte("secret"), 0o600))
			noErr(t, os.Mkdir(filepath.Join(d, "sub"), 0o755))
			noErr(t, os.Link(outside, filepath.Join(d, "sub", "secret")))
		}, Limits{}, ErrLink, "sub/secret"},
		{"socket", func(t *testing.T, d string) {
			l, err := net.Listen("unix", filepath.Join(d, "sock"))
			if err != nil {
				t.Skip("no unix sockets:", err)
			}
			t.Cleanup(func() { l.Close() })
		}, Limits{}, ErrSpecialFile, "sock"},
		{"char device", func(t *testing.T, d string) {
			// mknod needs CAP_MKNOD: root on most machines.
			if err := mkCharDevice(filepath.Join(d, "null")); err != nil {
				t.Skip("cannot create a device file (needs CAP_MKNOD):", err)
			}
		}, Limits{}, ErrSpecialFile, "null"},
		{"names differ only in case", func(t *testing.T, d string) {
			writeTestTree(t, d, map[string]string{"README.md": "1", "readme.md": "2"})
		}, Limits{}, ErrDuplicate, "readme.md"},
		{"backslash in a name", func(t *testing.T, d string) {
			writeTestTree(t, d, map[string]string{`a\b`: "1"})
		}, Limits{}, ErrBadPath, `a\b`},
		{"dots in a name", func(t *testing.T, d string) {
			writeTestTree(t, d, map[string]string{"a..b": "1"})
		}, Limits{}, ErrPathTraversal, "a..b"},
		{"too many entries", func(t *testing.T, d string) {
			writeTestTree(t, d, map[string]string{"a": "", "b": "", "c/d": ""})
		}, Limits{MaxEntries: 3}, ErrTooManyEntries, "c"},
		{"too many entries in one directory", func(t *testing.T, d string) {
			for i := range 300 {
				writeTestTree(t, d, map[string]string{string(rune('a'+i%26)) + strings.Repeat("x", i/26): ""})
			}
		}, Limits{MaxEntries: 10}, ErrTooManyEntries, "."},
		{"file too large", func(t *testing.T, d string) {
			writeTestTree(t, d, map[string]string{"big": strings.Repeat("x", 11)})
		}, Limits{MaxFileSize: 10}, ErrTooLarge, "big"},
		{"total too large", func(t *testing.T, d string) {
			writeTestTree(t, d, map[string]string{"a": strings.Repeat("x", 8), "b": strings.Repeat("x", 8)})
		}, Limits{MaxTotalSize: 15}, ErrTooLarge, "b"},
		{"manifest too large", func(t *testing.T, d string) {
			writeTestTree(t, d, map[string]string{ManifestFile: strings.Repeat("#", 11)})
		}, Limits{MaxManifestSize: 10}, ErrTooLarge, ManifestFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := t.TempDir()
			tt.setup(t, d)
			c, err := OpenDir(context.Background(), d, tt.lim)
			if err == nil {
				t.Fatalf("accepted: %+v", c.Files)
			}
			checkEntryErr(t, err, tt.want, tt.entry)
		})
	}
}

func TestOpenDirMissing(t *testing.T) {
	_, err := OpenDir(context.Background(), filepath.Join(t.TempDir(), "nope"), Limits{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error = %v", err)
	}
}

func noErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestOpenDirSkipsVCS: version-control directories are not package files,
// so a package kept in a git checkout packs as if they were absent.
func TestOpenDirSkipsVCS(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{".git/objects/ab", ".hg", "src/.svn"} {
		if err := os.MkdirAll(filepath.Join(dir, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{".git/HEAD", ".git/objects/ab/cdef", "src/.svn/entries", "src/a.c", ".gitignore"} {
		if err := os.WriteFile(filepath.Join(dir, p), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err := OpenDir(context.Background(), dir, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range c.Files {
		got = append(got, f.Path)
	}
	if diff := cmp.Diff([]string{".gitignore", "src/a.c"}, got); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
}
