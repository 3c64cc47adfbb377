package site

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/ebpfrepo/ebpfrepo/index"
)

// WriteOptions makes WriteWith incremental. The zero value renders every
// page, as Write does.
type WriteOptions struct {
	// Digests maps a package name to a digest of the package's whole
	// content as Data holds it (the repository build passes the sha256
	// of the package's index file, which serialises every field a page
	// shows). A package without a digest is always rendered.
	Digests map[string]string
	// Previous, when not nil, says which pages dir already holds: package
	// name → the fingerprint WriteResult.Fingerprints gave for them. A
	// package whose fingerprint is unchanged keeps its pages untouched;
	// every other entry of packages/ (changed or removed packages) and
	// every stale asset is removed and the pages rendered again. The
	// result is byte-for-byte what a Write into an empty dir gives.
	Previous map[string]string
}

// WriteResult says what WriteWith did.
type WriteResult struct {
	// Fingerprints maps every package that had a digest to the
	// fingerprint of its pages: the digest combined with everything else
	// a package page depends on (templates, assets, repository name,
	// description and base URL). Pass it as WriteOptions.Previous to a
	// later WriteWith into the same tree.
	Fingerprints map[string]string
	Rendered     int // packages whose pages were rendered
	Kept         int // packages whose pages were kept from Previous
}

// fingerprintVersion changes when what a package page shows changes in a
// way the templates and assets do not capture (the Go code behind them).
const fingerprintVersion = "ebpfrepo-site-pages-1"

// siteHash digests every input of a package page other than the package.
func (w *writer) siteHash() (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%q\x00%q\x00%q\x00", fingerprintVersion, w.d.Repository, w.d.Description, w.d.BaseURL)
	for _, efs := range []fs.FS{templateFS, assetFS} {
		err := fs.WalkDir(efs, ".", func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			data, err := fs.ReadFile(efs, p)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%s\x00%d\x00", p, len(data))
			h.Write(data)
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// WriteWith is Write with options; see WriteOptions.
func WriteWith(ctx context.Context, dir string, d *Data, opts WriteOptions) (*WriteResult, error) {
	if d == nil {
		return nil, &DataError{Field: "Data", Err: fmt.Errorf("nil")}
	}
	w, err := newWriter(dir, d)
	if err != nil {
		return nil, err
	}
	res := &WriteResult{Fingerprints: map[string]string{}}
	keep := map[string]bool{}
	if len(opts.Digests) > 0 {
		sh, err := w.siteHash()
		if err != nil {
			return nil, fmt.Errorf("site: %w", err)
		}
		for _, p := range w.pkgs {
			dg := opts.Digests[p.Name]
			if dg == "" {
				continue
			}
			sum := sha256.Sum256([]byte(sh + "\x00" + p.Name + "\x00" + dg))
			fp := hex.EncodeToString(sum[:])
			res.Fingerprints[p.Name] = fp
			if prev, ok := opts.Previous[p.Name]; ok && prev == fp && len(p.Versions) > 0 {
				keep[p.Name] = true
			}
		}
	}
	if err := w.writeAssets(); err != nil {
		return nil, err
	}
	if opts.Previous != nil {
		if err := w.prune(keep); err != nil {
			return nil, err
		}
	}
	hv, si := w.home()
	if err := w.render("index.html", tmplHome, hv); err != nil {
		return nil, err
	}
	sj, err := json.Marshal(si)
	if err != nil {
		return nil, fmt.Errorf("site: search.json: %w", err)
	}
	if err := w.writeFile("search.json", append(sj, '\n')); err != nil {
		return nil, err
	}
	if err := w.render("trust.html", tmplTrust, w.trust()); err != nil {
		return nil, err
	}

	// Package pages, one package per worker at a time: memory stays flat
	// (one package's pages at a time per worker) and templates and
	// Markdown use every core.
	var todo []*index.Package
	for _, p := range w.pkgs {
		if len(p.Versions) == 0 {
			continue
		}
		if keep[p.Name] {
			res.Kept++
			continue
		}
		todo = append(todo, p)
	}
	res.Rendered = len(todo)
	var (
		next  atomic.Int64
		once  sync.Once
		first error
		wg    sync.WaitGroup
	)
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(todo) {
					return
				}
				err := ctx.Err()
				if err == nil {
					err = w.packagePages(todo[i])
				}
				if err != nil {
					once.Do(func() { first = err })
					next.Store(int64(len(todo)))
					return
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	return res, nil
}

// packagePages renders packages/<name>/: index.html and a page per version.
func (w *writer) packagePages(p *index.Package) error {
	pdir := filepath.Join(w.dir, "packages", p.Name)
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		return fmt.Errorf("site: %w", err)
	}
	memo := map[string]template.HTML{}
	li := latestIndex(p)
	if err := w.renderIn(path.Join("packages", p.Name, "index.html"), w.packageView(p, li, true, memo)); err != nil {
		return err
	}
	for i := range p.Versions {
		file := path.Join("packages", p.Name, w.slugs[p.Name][i]+".html")
		if err := w.renderIn(file, w.packageView(p, i, false, memo)); err != nil {
			return err
		}
	}
	return nil
}

// renderIn renders a package page into a directory known to exist.
func (w *writer) renderIn(name string, pv *packageView) error {
	buf := getBuf()
	defer putBuf(buf)
	if err := templates().ExecuteTemplate(buf, string(tmplPackage), pv); err != nil {
		return fmt.Errorf("site: %s: %w", name, err)
	}
	if err := os.WriteFile(filepath.Join(w.dir, filepath.FromSlash(name)), buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("site: %w", err)
	}
	return nil
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuf() *bytes.Buffer { return bufPool.Get().(*bytes.Buffer) }

func putBuf(b *bytes.Buffer) {
	if b.Cap() > 1<<20 {
		return // do not keep an unusually large page's buffer
	}
	b.Reset()
	bufPool.Put(b)
}

// prune removes from packages/ every entry that is not the kept pages of
// a current package, and from assets/ every file that is not a current
// asset.
func (w *writer) prune(keep map[string]bool) error {
	ents, err := os.ReadDir(filepath.Join(w.dir, "packages"))
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("site: %w", err)
	}
	for _, e := range ents {
		if !keep[e.Name()] || !e.IsDir() {
			if err := os.RemoveAll(filepath.Join(w.dir, "packages", e.Name())); err != nil {
				return fmt.Errorf("site: %w", err)
			}
		}
	}
	current := map[string]bool{}
	for _, a := range []string{w.assets.CSS, w.assets.JS, w.assets.Icon} {
		current[path.Base(a)] = true
	}
	ents, err = os.ReadDir(filepath.Join(w.dir, "assets"))
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("site: %w", err)
	}
	for _, e := range ents {
		if !current[e.Name()] {
			if err := os.RemoveAll(filepath.Join(w.dir, "assets", e.Name())); err != nil {
				return fmt.Errorf("site: %w", err)
			}
		}
	}
	return nil
}
