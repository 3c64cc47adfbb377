package site

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sync"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/internal/buildx"
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

// fingerprintVersion names the fingerprint scheme.
const fingerprintVersion = "ebpfrepo-site-pages-1"

// siteHash digests every input of a package page other than the package.
func (w *writer) siteHash() (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%q\x00%q\x00%q\x00", fingerprintVersion, buildx.ProgramHash(), w.d.Repository, w.d.Description, w.d.BaseURL)
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
	c, err := NewCatalogue(dir, d, opts)
	if err != nil {
		return nil, err
	}
	return c.Finish(ctx, d)
}

// Catalogue renders a catalogue in two steps, so that a caller can write
// each package's pages as soon as the package is known and then drop
// what only those pages need (the descriptions of its older versions):
// WritePackage for each package (from any goroutine), then Finish. The
// result is the same as WriteWith's.
type Catalogue struct {
	w        *writer
	opts     WriteOptions
	siteHash string

	mu   sync.Mutex
	done map[string]bool // packages written or kept
	res  WriteResult
}

// NewCatalogue starts a catalogue in dir. Only the repository-wide fields
// of d (Repository, Description, BaseURL) are used here; Finish takes the
// complete Data.
func NewCatalogue(dir string, d *Data, opts WriteOptions) (*Catalogue, error) {
	if d == nil {
		return nil, &DataError{Field: "Data", Err: fmt.Errorf("nil")}
	}
	head := *d
	head.Packages = nil
	w, err := newWriter(dir, &head)
	if err != nil {
		return nil, err
	}
	c := &Catalogue{w: w, opts: opts, done: map[string]bool{}, res: WriteResult{Fingerprints: map[string]string{}}}
	if c.siteHash, err = w.siteHash(); err != nil {
		return nil, fmt.Errorf("site: %w", err)
	}
	if err := w.writeAssets(); err != nil {
		return nil, err
	}
	return c, nil
}

// WritePackage writes the pages of p, or keeps those already in the
// directory when WriteOptions.Previous says they are identical. digest
// is the package's digest (see WriteOptions.Digests; "" looks it up
// there). Safe for concurrent use.
func (c *Catalogue) WritePackage(p *index.Package, digest string) error {
	if p == nil || len(p.Versions) == 0 {
		return nil
	}
	if !pkgNameRE.MatchString(p.Name) {
		return &DataError{Package: p.Name, Field: "Name", Err: fmt.Errorf("not a valid package name ([a-z0-9][a-z0-9_-]{0,62})")}
	}
	fp := ""
	if digest == "" {
		digest = c.opts.Digests[p.Name]
	}
	if digest != "" {
		fp = fingerprint(c.siteHash, p.Name, digest)
	}
	c.mu.Lock()
	if c.done[p.Name] {
		c.mu.Unlock()
		return &DataError{Package: p.Name, Field: "Name", Err: fmt.Errorf("listed twice")}
	}
	c.done[p.Name] = true
	if fp != "" {
		c.res.Fingerprints[p.Name] = fp
	}
	prev, ok := c.opts.Previous[p.Name]
	keep := ok && fp != "" && prev == fp && c.present(p.Name)
	if keep {
		c.res.Kept++
	} else {
		c.res.Rendered++
	}
	c.mu.Unlock()
	if keep {
		return nil
	}
	pdir := filepath.Join(c.w.dir, "packages", p.Name)
	if c.opts.Previous != nil {
		// Pages of an earlier content of the package (a version gone).
		if err := os.RemoveAll(pdir); err != nil {
			return fmt.Errorf("site: %w", err)
		}
	}
	return c.w.packagePages(p)
}

// Finish renders the packages of d not yet written, removes what is
// stale in packages/ and assets/ (with WriteOptions.Previous), and writes
// the home page, search.json and the trust page. For packages already
// written, d needs only the description of their latest version.
func (c *Catalogue) Finish(ctx context.Context, d *Data) (*WriteResult, error) {
	if d == nil {
		return nil, &DataError{Field: "Data", Err: fmt.Errorf("nil")}
	}
	w, err := newWriter(c.w.dir, d)
	if err != nil {
		return nil, err
	}
	w.assets = c.w.assets
	var todo []*index.Package
	c.mu.Lock()
	for _, p := range w.pkgs {
		if len(p.Versions) > 0 && !c.done[p.Name] {
			todo = append(todo, p)
		}
	}
	c.mu.Unlock()
	if err := buildx.Parallel(ctx, len(todo), func(i int) error { return c.WritePackage(todo[i], "") }); err != nil {
		return nil, err
	}
	if c.opts.Previous != nil {
		if err := w.prune(c.done); err != nil {
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
	if err := w.render(NotFoundPage, tmplNotFound, w.notFound()); err != nil {
		return nil, err
	}
	res := c.res
	return &res, nil
}

func fingerprint(siteHash, name, digest string) string {
	sum := sha256.Sum256([]byte(siteHash + "\x00" + name + "\x00" + digest))
	return hex.EncodeToString(sum[:])
}

// Fingerprints gives the fingerprint WriteWith would record for each
// package of digests (package name → digest), with the repository-wide
// fields of d (see NewCatalogue): a caller can tell before rendering
// which pages an earlier Write left that are still current.
func Fingerprints(d *Data, digests map[string]string) (map[string]string, error) {
	if d == nil {
		return nil, &DataError{Field: "Data", Err: fmt.Errorf("nil")}
	}
	head := *d
	head.Packages = nil
	w, err := newWriter("", &head)
	if err != nil {
		return nil, err
	}
	sh, err := w.siteHash()
	if err != nil {
		return nil, fmt.Errorf("site: %w", err)
	}
	out := make(map[string]string, len(digests))
	for name, dg := range digests {
		if dg != "" {
			out[name] = fingerprint(sh, name, dg)
		}
	}
	return out, nil
}

// KeepPackage keeps the pages of p that WriteOptions.Previous lists with
// the fingerprint of digest, without rendering anything; it reports
// false (and does nothing) when they cannot be kept. Only the
// description of p's featured version (index.Package.FeaturedIndex) is needed.
func (c *Catalogue) KeepPackage(p *index.Package, digest string) bool {
	if p == nil || len(p.Versions) == 0 || digest == "" || !pkgNameRE.MatchString(p.Name) {
		return false
	}
	fp := fingerprint(c.siteHash, p.Name, digest)
	if prev, ok := c.opts.Previous[p.Name]; !ok || prev != fp || !c.present(p.Name) {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done[p.Name] {
		return false
	}
	c.done[p.Name] = true
	c.res.Fingerprints[p.Name] = fp
	c.res.Kept++
	return true
}

// present reports whether the kept pages of a package are still there
// (a cheap guard against a tree changed behind the manifest's back).
func (c *Catalogue) present(name string) bool {
	fi, err := os.Lstat(filepath.Join(c.w.dir, "packages", name, "index.html"))
	return err == nil && fi.Mode().IsRegular()
}

// packagePages renders packages/<name>/: index.html and a page per
// version. One package's pages are in memory at a time.
func (w *writer) packagePages(p *index.Package) error {
	pdir := filepath.Join(w.dir, "packages", p.Name)
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		return fmt.Errorf("site: %w", err)
	}
	pp := newPkgPages(p)
	if err := w.renderIn(path.Join("packages", p.Name, "index.html"), w.packageView(pp, pp.featured, true)); err != nil {
		return err
	}
	for i := range p.Versions {
		file := path.Join("packages", p.Name, pp.slugs[i]+".html")
		if err := w.renderIn(file, w.packageView(pp, i, false)); err != nil {
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
	return replaceFile(filepath.Join(w.dir, filepath.FromSlash(name)), buf.Bytes())
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
