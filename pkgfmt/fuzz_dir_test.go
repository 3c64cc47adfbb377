package pkgfmt

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// fuzzTree creates, under root, the entries data encodes: each entry is a
// kind byte, a name up to a NUL, and contents up to the next NUL. Kinds
// (byte mod 5): 0 file, 1 executable, 2 directory, 3 symbolic link (the
// contents are its target), 4 hard link to the previous file. Names that
// would leave root are skipped, as are entries the file system refuses.
// It reports whether a link was created.
func fuzzTree(root string, data []byte) (links bool) {
	prev := ""
	for len(data) > 0 {
		kind := data[0] % 5
		data = data[1:]
		name, rest, _ := bytes.Cut(data, []byte{0})
		body, rest, _ := bytes.Cut(rest, []byte{0})
		data = rest
		if !filepath.IsLocal(string(name)) {
			continue
		}
		p := filepath.Join(root, string(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		switch kind {
		case 0, 1:
			mode := os.FileMode(0o644)
			if kind == 1 {
				mode = 0o755
			}
			if os.WriteFile(p, body, mode) == nil {
				os.Chmod(p, mode)
				prev = p
			}
		case 2:
			os.MkdirAll(p, 0o755)
		case 3:
			if os.Symlink(string(body), p) == nil {
				links = true
			}
		case 4:
			if prev != "" && os.Link(prev, p) == nil {
				links = true
			}
		}
	}
	return links
}

// FuzzOpenDir reads hostile source directories: names with dots,
// backslashes, control characters and case collisions, links of both
// kinds, deep nesting. Whatever the tree, OpenDir never panics, every
// refusal is an *EntryError, and what it accepts is a clean relative
// path with the bytes that are on disk.
func FuzzOpenDir(f *testing.F) {
	f.Add([]byte("\x00ebpf-package.toml\x00name = \"x\"\x00\x01run\x00#!/bin/sh\x00\x02sub/dir\x00\x00\x00sub/dir/a.o\x00ELF"))
	f.Add([]byte("\x00a\x00x\x00\x03b\x00a\x00\x03c\x00/etc/passwd\x00"))
	f.Add([]byte("\x00a\x00x\x00\x04b\x00\x00"))
	f.Add([]byte("\x00README.md\x001\x00\x00readme.md\x002\x00\x00a..b\x00\x00\x00a\\b\x00\x00\x00a\nb\x00"))
	lim := Limits{MaxEntries: 32, MaxFileSize: 1 << 16, MaxTotalSize: 1 << 18}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		root := t.TempDir()
		links := fuzzTree(root, data)
		c, err := OpenDir(context.Background(), root, lim)
		if err != nil {
			var ee *EntryError
			if !errors.As(err, &ee) {
				t.Fatalf("error %v is not an *EntryError", err)
			}
			return
		}
		if links {
			t.Fatal("a tree with a link was accepted")
		}
		var total int64
		for i, f := range c.Files {
			if err := checkRelPath(f.Path); err != nil {
				t.Fatalf("accepted path %q: %v", f.Path, err)
			}
			if i > 0 && c.Files[i-1].Path >= f.Path {
				t.Fatalf("not sorted: %q, %q", c.Files[i-1].Path, f.Path)
			}
			if f.Mode != 0o644 && f.Mode != 0o755 {
				t.Fatalf("%s: mode %v", f.Path, f.Mode)
			}
			disk, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f.Path)))
			if err != nil || !bytes.Equal(disk, f.Data) {
				t.Fatalf("%s: read %q, on disk %q (%v)", f.Path, f.Data, disk, err)
			}
			total += int64(len(f.Data))
		}
		if total > lim.MaxTotalSize || len(c.Files) > lim.MaxEntries {
			t.Fatalf("limits exceeded: %d bytes, %d files", total, len(c.Files))
		}
	})
}
