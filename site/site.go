package site

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ebpfrepo/ebpfrepo/index"
)

// Data is everything the catalogue shows. The repository build fills it in.
type Data struct {
	Repository  string    // repository name
	Description string    // repository description
	BaseURL     string    // public base URL if configured ("" = unknown; snippets use a placeholder)
	Generated   time.Time // build time (SOURCE_DATE_EPOCH), UTC
	Summary     *index.Summary
	Packages    []*index.Package // sorted by name
	Trust       Trust
}

// Trust describes the repository's TUF roles for the trust page.
type Trust struct {
	RootPath   string           // relative path of 1.root.json in the output, e.g. "metadata/1.root.json"
	RootSHA256 string           // sha256 of that file, lowercase hex
	Roles      []index.RoleInfo // root, targets, snapshot, timestamp (and a summary of the bins)
	Bins       int              // number of hash-bin delegations
}

// DataError reports Data the catalogue cannot render safely, such as a
// package name that is not a valid path component.
type DataError struct {
	Package string // package name, if one is at fault
	Field   string // e.g. "Name", "Trust.RootPath"
	Err     error
}

func (e *DataError) Error() string {
	if e.Package != "" {
		return fmt.Sprintf("site: package %q: %s: %v", e.Package, e.Field, e.Err)
	}
	return fmt.Sprintf("site: %s: %v", e.Field, e.Err)
}

func (e *DataError) Unwrap() error { return e.Err }

// writer holds the state of one Write.
type writer struct {
	d      *Data
	dir    string
	pkgs   []*index.Package // sorted by name
	assets assetNames
}

// Write renders the catalogue into dir (the build's temporary output root):
// index.html, trust.html, packages/<name>/index.html (the latest version),
// packages/<name>/<version>.html (every version), search.json and
// assets/ with content-hashed names. Every link is relative, so the tree
// works under any sub-path and from file://. The same Data always yields
// the same bytes. Write does not remove other files in dir; publishing
// atomically is the caller's job. WriteWith can keep the pages of
// unchanged packages from an earlier Write.
func Write(ctx context.Context, dir string, d *Data) error {
	_, err := WriteWith(ctx, dir, d, WriteOptions{})
	return err
}

func newWriter(dir string, d *Data) (*writer, error) {
	if d.Repository == "" {
		c := *d
		c.Repository = "eBPF packages"
		if d.Summary != nil && d.Summary.Repository != "" {
			c.Repository = d.Summary.Repository
		}
		d = &c
	}
	w := &writer{d: d, dir: dir}
	return w, w.prepare()
}

// prepare validates names that become paths and sorts the packages.
func (w *writer) prepare() error {
	seen := make(map[string]bool)
	for _, p := range w.d.Packages {
		if p == nil {
			continue
		}
		if !pkgNameRE.MatchString(p.Name) {
			return &DataError{Package: p.Name, Field: "Name", Err: fmt.Errorf("not a valid package name ([a-z0-9][a-z0-9_-]{0,62})")}
		}
		if seen[p.Name] {
			return &DataError{Package: p.Name, Field: "Name", Err: fmt.Errorf("listed twice")}
		}
		seen[p.Name] = true
		w.pkgs = append(w.pkgs, p)
	}
	slices.SortFunc(w.pkgs, func(a, b *index.Package) int { return strings.Compare(a.Name, b.Name) })
	if rp := w.d.Trust.RootPath; rp != "" {
		if !isRelativeFile(rp) {
			return &DataError{Field: "Trust.RootPath", Err: fmt.Errorf("%q is not a relative path inside the output", rp)}
		}
	}
	return nil
}

// versionSlugs gives the file stem of each version's page.
func versionSlugs(p *index.Package) []string {
	used := map[string]bool{"index": true}
	slugs := make([]string, len(p.Versions))
	for i, v := range p.Versions {
		s := versionSlug(v.Version)
		if s == "" || s[0] == '.' || s[0] == '-' {
			s = "v" + s
		}
		base := s
		for n := 2; used[s]; n++ {
			s = fmt.Sprintf("%s_%d", base, n)
		}
		used[s] = true
		slugs[i] = s
	}
	return slugs
}

func isRelativeFile(p string) bool {
	if p == "" || strings.Contains(p, "\\") || strings.Contains(p, ":") || path.IsAbs(p) {
		return false
	}
	c := path.Clean(p)
	return c == p && c != "." && c != ".." && !strings.HasPrefix(c, "../")
}

// NotFoundPage is the page a static host serves for a missing path
// (GitHub Pages takes 404.html as it is; S3 website hosting names it as
// its error document).
const NotFoundPage = "404.html"

// notFound is the 404 page's view: served at any depth, so its links are
// absolute when the base URL is known.
func (w *writer) notFound() pageBase {
	root := ""
	if w.d.BaseURL != "" {
		root = strings.TrimRight(w.d.BaseURL, "/") + "/"
	}
	return w.base(root, "", "Not found · "+w.d.Repository)
}

func (w *writer) base(root, nav, title string) pageBase {
	b := pageBase{
		Title:       title,
		Description: w.d.Description,
		Root:        root,
		Assets:      w.assets,
		Repository:  w.d.Repository,
		Nav:         nav,
	}
	if nav != "" {
		// Only the home and trust pages show repository-wide figures
		// (see pageBase.Stats).
		b.Stats = true
		b.Generated = formatTime(w.d.Generated)
		b.GeneratedAt = w.d.Generated.UTC().Format(time.RFC3339)
		b.Packages = len(w.pkgs)
	}
	return b
}

func (w *writer) render(name string, t templateName, data any) error {
	var buf bytes.Buffer
	if err := templates().ExecuteTemplate(&buf, string(t), data); err != nil {
		return fmt.Errorf("site: %s: %w", name, err)
	}
	return w.writeFile(name, buf.Bytes())
}

func (w *writer) writeFile(name string, data []byte) error {
	p := filepath.Join(w.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("site: %w", err)
	}
	return replaceFile(p, data)
}

// replaceFile writes data at p as a new file: an existing file is
// unlinked first, never truncated, because a reused tree may share it
// (a hard link) with the live tree readers are reading.
func replaceFile(p string, data []byte) error {
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("site: %w", err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return fmt.Errorf("site: %w", err)
	}
	return nil
}
