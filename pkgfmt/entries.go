package pkgfmt

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// collector applies the rules every reader shares to a stream of entries
// and gathers the regular files.
type collector struct {
	archive string
	stem    string // the required top-level directory; "" for a source directory
	lim     Limits

	entries int
	total   int64
	kind    map[string]byte   // path relative to the root → 'd' dir entry, 'i' implicit dir, 'f' file
	fold    map[string]string // lower-cased path → path, for names differing only in case
	files   []File
}

func newCollector(archive, stem string, lim Limits) *collector {
	c := &collector{
		archive: archive,
		stem:    stem,
		lim:     lim.WithDefaults(),
		kind:    map[string]byte{},
		fold:    map[string]string{},
	}
	if stem == "" {
		c.kind[""] = 'd' // a source directory's root exists
	}
	return c
}

func (c *collector) fail(entry string, err error) error {
	return &EntryError{Archive: c.archive, Entry: entry, Err: err}
}

// count counts one more entry against MaxEntries.
func (c *collector) count(entry string) error {
	c.entries++
	if c.entries > c.lim.MaxEntries {
		return c.fail(entry, fmt.Errorf("%w: more than %d entries", ErrTooManyEntries, c.lim.MaxEntries))
	}
	return nil
}

// enter checks the name of one entry and records it. It returns the path
// relative to the package root ("" for the top-level directory itself).
func (c *collector) enter(raw string, isDir bool) (string, error) {
	name := raw
	if len(name) > maxPathLen {
		return "", c.fail(truncateName(raw), fmt.Errorf("%w: name longer than %d bytes", ErrBadPath, maxPathLen))
	}
	if c.stem != "" {
		name = strings.TrimPrefix(name, "./")
	}
	if isDir {
		name = strings.TrimSuffix(name, "/")
	} else if strings.HasSuffix(name, "/") {
		return "", c.fail(raw, fmt.Errorf("%w: file name ends in '/'", ErrBadPath))
	}
	if err := checkRelPath(name); err != nil {
		return "", c.fail(raw, err)
	}
	rel := name
	if c.stem != "" {
		top, rest, _ := strings.Cut(name, "/")
		if top != c.stem {
			return "", c.fail(raw, fmt.Errorf("%w: %q is outside %q/, the artifact name up to its first dot (l3afd extracts only that directory)", ErrTopLevel, top, c.stem))
		}
		if rest == "" && !isDir {
			return "", c.fail(raw, fmt.Errorf("%w: %q must be a directory", ErrTopLevel, top))
		}
		rel = rest
	}
	if k, ok := c.kind[rel]; ok {
		if k == 'i' && isDir {
			c.kind[rel] = 'd'
			return rel, nil
		}
		return "", c.fail(raw, fmt.Errorf("%w: %q appears twice", ErrDuplicate, name))
	}
	if other, ok := c.fold[strings.ToLower(rel)]; ok {
		return "", c.fail(raw, fmt.Errorf("%w: differs from %q only in case", ErrDuplicate, other))
	}
	if rel != "" {
		if err := c.parents(raw, rel, isDir); err != nil {
			return "", err
		}
	}
	if isDir {
		c.kind[rel] = 'd'
	} else {
		c.kind[rel] = 'f'
	}
	c.fold[strings.ToLower(rel)] = rel
	return rel, nil
}

// parents applies l3afd's extraction rules to the parent directories of
// rel: a directory entry creates its missing parents (l3afd calls
// MkdirAll), a file needs its parent to exist already (l3afd creates
// the file with no parents).
func (c *collector) parents(raw, rel string, isDir bool) error {
	dir := path.Dir(rel)
	if dir == "." {
		dir = ""
	}
	if !isDir {
		switch c.kind[dir] {
		case 'd', 'i':
			return nil
		case 'f':
			return c.fail(raw, fmt.Errorf("%w: parent %q is a file", ErrBadPath, c.display(dir)))
		}
		if dir == "" && c.stem != "" {
			// The parent missing is the top-level directory itself.
			return c.fail(raw, fmt.Errorf("%w: %w: no entry for the top-level directory %q/ before it (l3afd creates no parent directories for a file); pack with ebpfrepo pack", ErrTopLevel, ErrEntryOrder, c.stem))
		}
		return c.fail(raw, fmt.Errorf("%w: no entry for %q/ before it (l3afd creates no parent directories for a file)", ErrEntryOrder, c.display(dir)))
	}
	var anc []string
	for d := dir; ; d = path.Dir(d) {
		if d == "." {
			d = ""
		}
		anc = append(anc, d)
		if d == "" {
			break
		}
	}
	for _, d := range slices.Backward(anc) {
		switch c.kind[d] {
		case 'd', 'i':
			continue
		case 'f':
			return c.fail(raw, fmt.Errorf("%w: parent %q is a file", ErrBadPath, c.display(d)))
		}
		if other, ok := c.fold[strings.ToLower(d)]; ok && other != d {
			return c.fail(raw, fmt.Errorf("%w: directory %q differs from %q only in case", ErrDuplicate, c.display(d), c.display(other)))
		}
		c.kind[d] = 'i'
		c.fold[strings.ToLower(d)] = d
	}
	return nil
}

// display turns a root-relative path back into the name as stored.
func (c *collector) display(rel string) string {
	if c.stem == "" {
		if rel == "" {
			return "."
		}
		return rel
	}
	if rel == "" {
		return c.stem
	}
	return c.stem + "/" + rel
}

// addFile reads one regular file, counting what it reads against the
// limits; claimed is the size the entry's header states (or -1), used
// only to reject early and never trusted.
func (c *collector) addFile(ctx context.Context, entry, rel string, exec bool, r io.Reader, claimed int64) error {
	limit := c.lim.MaxFileSize
	what := fmt.Sprintf("the %d-byte limit on one file", limit)
	if rel == ManifestFile && c.lim.MaxManifestSize < limit {
		limit = c.lim.MaxManifestSize
		what = fmt.Sprintf("the %d-byte limit on the manifest", limit)
	}
	if rem := c.lim.MaxTotalSize - c.total; rem < limit {
		limit = rem
		what = fmt.Sprintf("the %d-byte limit on all files together (%d bytes left)", c.lim.MaxTotalSize, rem)
	}
	tooLarge := func(n string) error {
		return c.fail(entry, fmt.Errorf("%w: %s bytes, over %s", ErrTooLarge, n, what))
	}
	if claimed > limit {
		return tooLarge(fmt.Sprint(claimed))
	}
	buf := bytes.NewBuffer(make([]byte, 0, min(max(claimed, 0), limit, 1<<20)+1))
	n, err := buf.ReadFrom(io.LimitReader(ctxReader{ctx, r}, limit+1))
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return c.fail(entry, fmt.Errorf("%w: %v", ErrFormat, err))
	}
	if n > limit {
		return tooLarge("more than " + fmt.Sprint(limit))
	}
	c.total += n
	c.files = append(c.files, File{Path: rel, Mode: normalMode(exec), Data: buf.Bytes()})
	return nil
}

func (c *collector) contents() (*Contents, error) {
	if c.stem != "" && c.kind[""] == 0 {
		return nil, c.fail("", fmt.Errorf("%w: empty artifact: no %q/ directory", ErrTopLevel, c.stem))
	}
	slices.SortFunc(c.files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return &Contents{Name: c.archive, Stem: c.stem, Files: c.files}, nil
}

func normalMode(exec bool) fs.FileMode {
	if exec {
		return 0o755
	}
	return 0o644
}

func truncateName(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// ctxReader stops a long read when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
