package pkgfmt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"syscall"
)

// maxDirDepth bounds the nesting of a source directory.
const maxDirDepth = 64

// OpenDir reads a package source directory without trusting it, with the
// same rules as ReadArtifact: a symbolic link anywhere in the tree is
// rejected (never followed), as are regular files with more than one name
// (hard links), device files, sockets and pipes,
// names two files would share on a case-insensitive file system, more
// than lim.MaxEntries entries and files over the size limits. The
// returned Contents has an empty Stem. Every file is read through an
// os.Root, so a tree changed while it is read cannot lead outside dir.
func OpenDir(ctx context.Context, dir string, lim Limits) (*Contents, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	c := newCollector(dir, "", lim)
	if err := c.walk(ctx, root, dir, "", 0); err != nil {
		return nil, err
	}
	return c.contents()
}

// vcsDirs are version-control directories a source directory may hold;
// they are never part of a package (as golang.org/x/mod/zip leaves them out
// of module zips), so packing a git checkout works.
var vcsDirs = map[string]bool{".git": true, ".hg": true, ".svn": true, ".bzr": true}

func isVCSDir(e fs.DirEntry) bool { return e.IsDir() && vcsDirs[e.Name()] }

func (c *collector) walk(ctx context.Context, root *os.Root, dir, rel string, depth int) error {
	if depth > maxDirDepth {
		return c.fail(rel, fmt.Errorf("%w: nested deeper than %d directories", ErrBadPath, maxDirDepth))
	}
	d, err := root.Open(orDot(rel))
	if err != nil {
		return c.fail(orDot(rel), err)
	}
	// Read in batches so a directory with millions of entries is refused
	// without listing it all.
	var ents []fs.DirEntry
	for {
		batch, err := d.ReadDir(256)
		ents = append(ents, slices.DeleteFunc(batch, isVCSDir)...)
		if c.entries+len(ents) > c.lim.MaxEntries {
			d.Close()
			return c.fail(orDot(rel), fmt.Errorf("%w: more than %d entries", ErrTooManyEntries, c.lim.MaxEntries))
		}
		if errors.Is(err, io.EOF) || (err == nil && len(batch) == 0) {
			break
		}
		if err != nil {
			d.Close()
			return c.fail(orDot(rel), err)
		}
	}
	d.Close()
	slices.SortFunc(ents, func(a, b fs.DirEntry) int {
		switch {
		case a.Name() < b.Name():
			return -1
		case a.Name() > b.Name():
			return 1
		}
		return 0
	})
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return err
		}
		p := path.Join(rel, e.Name())
		if err := c.count(p); err != nil {
			return err
		}
		t := e.Type()
		switch {
		case t&fs.ModeSymlink != 0:
			target, _ := os.Readlink(filepath.Join(dir, filepath.FromSlash(p)))
			return c.fail(p, fmt.Errorf("%w: symbolic link to %q", ErrLink, target))
		case t.IsDir():
			if _, err := c.enter(p, true); err != nil {
				return err
			}
			if err := c.walk(ctx, root, dir, p, depth+1); err != nil {
				return err
			}
		case t.IsRegular():
			if _, err := c.enter(p, false); err != nil {
				return err
			}
			if err := c.readRegular(ctx, root, p); err != nil {
				return err
			}
		default:
			return c.fail(p, fmt.Errorf("%w: %s", ErrSpecialFile, t))
		}
	}
	return nil
}

// readRegular reads one file, checking that what was opened is the
// regular file that was listed and not something swapped in since.
func (c *collector) readRegular(ctx context.Context, root *os.Root, p string) error {
	before, err := root.Lstat(p)
	if err != nil {
		return c.fail(p, err)
	}
	if !before.Mode().IsRegular() {
		return c.fail(p, fmt.Errorf("%w: %s (changed while reading)", ErrSpecialFile, before.Mode().Type()))
	}
	// O_NONBLOCK: should a pipe be swapped in, the open must not hang.
	f, err := root.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return c.fail(p, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return c.fail(p, err)
	}
	if !fi.Mode().IsRegular() || !os.SameFile(before, fi) {
		return c.fail(p, fmt.Errorf("%w: file replaced while reading", ErrLink))
	}
	if n := linkCount(fi); n > 1 {
		// Another name of the same file may lie outside the package, and
		// writing through either changes both: as with symbolic links,
		// the package must hold its own copy.
		return c.fail(p, fmt.Errorf("%w: hard link (the file has %d names, and another may lie outside the package)", ErrLink, n))
	}
	return c.addFile(ctx, p, p, fi.Mode()&0o111 != 0, f, fi.Size())
}

func orDot(rel string) string {
	if rel == "" {
		return "."
	}
	return rel
}
