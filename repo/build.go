package repo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/internal/atomicfile"
	"github.com/ebpfrepo/ebpfrepo/internal/buildx"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
	"github.com/ebpfrepo/ebpfrepo/site"
	"github.com/ebpfrepo/ebpfrepo/tufrepo"
)

// BuildOptions configures Build. The zero value means defaults.
type BuildOptions struct {
	OutDir      string    // default REPO_DIR/public
	SkipInvalid bool      // report invalid packages and leave them out instead of failing
	Now         time.Time // zero: SOURCE_DATE_EPOCH, else the current time
	// Progress, if set, is called as artifacts are validated (from one
	// goroutine at a time).
	Progress func(done, total int)
}

// BuildResult summarises a build (ebpfrepo build --json).
type BuildResult struct {
	OutDir    string `json:"out_dir"`
	Packages  int    `json:"packages"`
	Versions  int    `json:"versions"`
	Artifacts int    `json:"artifacts"` // artifact files (one per version)
	Targets   int    `json:"targets"`   // TUF targets: an artifact per platform, plus the index files
	Bytes     int64  `json:"bytes"`     // bytes of all artifacts
	Hashed    int    `json:"hashed"`    // artifacts read and hashed in this build
	Validated int    `json:"validated"` // artifacts validated in this build
	Cached    int    `json:"cached"`    // artifacts whose description came from the cache
	Warnings  int    `json:"warnings"`
	// Kept counts the files of the output (outside the catalogue) reused
	// unchanged from the previous tree instead of being written again.
	Kept int `json:"kept_files"`
	// PagesRendered and PagesKept count the packages whose catalogue
	// pages were rendered, and kept unchanged from the previous tree.
	PagesRendered int `json:"pages_rendered"`
	PagesKept     int `json:"pages_kept"`
	// PackagesReused counts the unchanged packages whose index file and
	// pages were kept without taking their descriptions (package cache).
	PackagesReused int `json:"packages_reused"`
	// Skipped lists the invalid versions left out (SkipInvalid).
	Skipped []Skipped `json:"skipped,omitempty"`
	// RolesSigned lists the top-level TUF roles that got a new version
	// (root, targets, snapshot, timestamp); BinsSigned counts the hash
	// bins re-signed.
	RolesSigned      []string         `json:"roles_signed"`
	BinsSigned       int              `json:"bins_signed"`
	Bins             int              `json:"bins"`
	MetadataVersions map[string]int64 `json:"metadata_versions,omitempty"`
	Phases           []Phase          `json:"phases"`
	Seconds          float64          `json:"seconds"`
}

// Skipped is an invalid version left out of a build.
type Skipped struct {
	Package  string           `json:"package"` // name@version
	Problems []pkgfmt.Problem `json:"problems"`
}

// Phase is the duration of one phase of a build.
type Phase struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// testHookMidBuild, when set, runs after the targets are written into the
// temporary output and before signing; an error aborts the build there.
var testHookMidBuild func() error

// Build writes the static repository into opts.OutDir: the index files
// and the artifacts as TUF targets at hash-prefixed names, the TUF
// metadata, the plain l3afd tree and the catalogue. The output is made in
// a temporary directory beside OutDir and swapped in at the end, so a
// failed or interrupted build leaves the previous output as it was.
// Invalid packages fail the build with an *InvalidError listing every
// problem, unless SkipInvalid.
func (r *Repo) Build(ctx context.Context, opts BuildOptions) (*BuildResult, error) {
	res, err := r.build(ctx, opts, true)
	if errors.Is(err, errReuseLost) {
		res, err = r.build(ctx, opts, false)
	}
	return res, err
}

func (r *Repo) build(ctx context.Context, opts BuildOptions, usePkgCache bool) (*BuildResult, error) {
	start := time.Now()
	now, err := resolveNow(opts.Now)
	if err != nil {
		return nil, err
	}
	out, err := r.outDir(opts.OutDir)
	if err != nil {
		return nil, err
	}
	unlock, err := r.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	res := &BuildResult{OutDir: out, RolesSigned: []string{}}
	phase := time.Now()
	mark := func(name string) {
		t := time.Now()
		res.Phases = append(res.Phases, Phase{Name: name, Seconds: t.Sub(phase).Seconds()})
		phase = t
	}

	kr, err := r.keyring()
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	items, err := r.scan()
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	yanks, err := r.loadYanks()
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	mark("scan")

	// The spare output tree and the package cache tell which packages are
	// unchanged since the spare was built: their index files and pages
	// are there, and their descriptions need not be taken at all.
	spare := peekSpare(out)
	pc := loadPkgCache(r.paths().Cache("packages.json"))
	var reused map[string]*pkgEntry
	var reuse func([]*item)
	if usePkgCache && spare != nil && spare.Catalogue != nil && validPageNames(spare.Catalogue) {
		reuse = func(items []*item) { reused = r.unchangedPackages(items, spare, pc, yanks) }
	}
	if err := r.validate(ctx, items, res, opts.Progress, reuse); err != nil {
		return nil, err
	}
	pc.Entries = nil // those still needed are in reused
	var bad []pkgfmt.Problem
	valid := items[:0:0]
	invalid := map[string]bool{} // packages with a version left out
	for _, it := range items {
		if it.reused {
			valid = append(valid, it)
			continue
		}
		var errs []pkgfmt.Problem
		if it.desc != nil {
			for _, p := range it.desc.Problems {
				if p.Severity == pkgfmt.SeverityError {
					p.Package = it.label()
					errs = append(errs, p)
				} else {
					it.warnings++
					res.Warnings++
				}
			}
		}
		if it.problem != nil {
			p := *it.problem
			p.Package = it.label()
			errs = append(errs, p)
		}
		if len(errs) == 0 {
			errs = it.checkLayout()
		}
		if len(errs) > 0 {
			invalid[it.name] = true
			bad = append(bad, errs...)
			res.Skipped = append(res.Skipped, Skipped{Package: it.label(), Problems: errs})
			continue
		}
		valid = append(valid, it)
	}
	if len(bad) > 0 && !opts.SkipInvalid {
		return nil, &InvalidError{Op: "build", Problems: bad}
	}
	mark("validate")

	// Group by package; items are sorted by name already.
	var pkgs []*index.Package
	var pkgItems [][]*item
	for i := 0; i < len(valid); {
		j := i
		for j < len(valid) && valid[j].name == valid[i].name {
			j++
		}
		its := valid[i:j]
		i = j
		res.Versions += len(its)
		res.Artifacts += len(its)
		for _, it := range its {
			res.Bytes += it.length
		}
		if e := reused[its[0].name]; e != nil {
			res.PackagesReused++
			res.Warnings += e.Warnings
			pkgs = append(pkgs, e.Package)
			pkgItems = append(pkgItems, its)
			continue
		}
		for _, it := range its {
			if it.added.IsZero() {
				it.recordAdded = true
			}
		}
		pkgs = append(pkgs, nil) // built by its index worker, from the packed descriptions
		pkgItems = append(pkgItems, its)
	}
	res.Packages = len(pkgs)

	tmp, err := r.tempOut(out)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	// Reuse the spare tree (the output before the current one) when it has
	// a manifest; its catalogue part is cleared while the index files and
	// artifacts are written.
	var (
		old      map[string]string
		oldPages map[string]string // catalogue pages in the reused tree
	)
	m := adoptSpare(out, tmp, spare)
	if m == nil && len(reused) > 0 {
		removeAllParallel(tmp)
		return nil, errReuseLost
	}
	if m != nil {
		old, oldPages = m.Files, m.Catalogue
		if oldPages != nil && !validPageNames(oldPages) {
			oldPages = nil
		}
	}
	treeReused, pagesKept := old != nil, oldPages != nil
	cleaned := make(chan struct{})
	go func() {
		defer close(cleaned)
		if treeReused {
			cleanCatalogue(tmp, pagesKept)
		}
	}()
	w := newTreeWriter(tmp, old)
	old = nil // w.old holds it until the output is written
	keep := false
	defer func() {
		<-cleaned
		if !keep {
			removeAllParallel(tmp)
		}
	}()

	// Index files and catalogue pages, one package per worker at a time.
	// A package is built here from its versions' packed descriptions
	// (setDesc), so only the packages in the workers' hands are decoded.
	// Once a package's pages are written only the description of its
	// latest version is still needed (the home page and search.json), so
	// the others are dropped: a build holds about one description per
	// package, not one per version.
	if treeReused && !pagesKept {
		<-cleaned // the old catalogue goes before the new one is written
	}
	cat, err := site.NewCatalogue(tmp, r.siteHead(), site.WriteOptions{Previous: oldPages})
	if err != nil {
		return nil, fmt.Errorf("build: catalogue: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(tmp, filepath.Dir(filepath.FromSlash(layout.Target(layout.SummaryTarget, "x")))), 0o755); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	targets := make([]tufrepo.Target, len(pkgs), len(pkgs)+1)
	summaries := make([]index.SummaryPackage, len(pkgs))
	entries := make([]*pkgEntry, len(pkgs))
	in := newInterner()
	if err := buildx.Parallel(ctx, len(pkgs), func(i int) error {
		name := pkgItems[i][0].name
		if e := reused[name]; e != nil {
			p := pkgs[i]
			// Unchanged: the reused tree holds its index file and pages.
			tp := layout.PackageIndexTarget(p.Name)
			if !w.claim(layout.Target(tp, e.IndexSHA), e.IndexSHA) || !cat.KeepPackage(p, e.IndexSHA) {
				return errReuseLost
			}
			targets[i] = tufrepo.Target{Path: tp, Length: e.IndexLen, SHA256: e.IndexSHA}
			summaries[i] = e.Summary
			entries[i] = e
			return nil
		}
		var ins []index.VersionInput
		for _, it := range pkgItems[i] {
			added := it.added
			if it.recordAdded {
				added = now
			}
			d, err := it.description()
			if err != nil {
				return fmt.Errorf("package %s: description of %s: %w", name, it.version, err)
			}
			ins = append(ins, index.VersionInput{Description: *d, Length: it.length, SHA256: it.sha, Added: added,
				Yanked: yanks.lookup(it.name, it.version)})
		}
		p := index.BuildPackage(name, ins)
		ins = nil
		pkgs[i] = p
		data, err := index.Marshal(p)
		if err != nil {
			return err
		}
		t, err := writeTarget(w, layout.PackageIndexTarget(p.Name), data)
		if err != nil {
			return err
		}
		targets[i] = t
		summaries[i] = index.Summarize(p, t.Length, t.SHA256)
		// The index file holds everything the package's pages show.
		if err := cat.WritePackage(p, t.SHA256); err != nil {
			return fmt.Errorf("catalogue: %w", err)
		}
		li := p.FeaturedIndex()
		for j := range p.Versions {
			if j != li {
				p.Versions[j].Description = pkgfmt.Description{}
			} else {
				in.description(&p.Versions[j].Description)
			}
		}
		if its := pkgItems[i]; !invalid[p.Name] && cacheable(its) {
			e := &pkgEntry{Key: pkgKey(p.Name, its, r.Config.Verify, yanks), IndexSHA: t.SHA256, IndexLen: t.Length,
				Summary: summaries[i], Package: p}
			for _, it := range its {
				e.Warnings += it.warnings
			}
			entries[i] = e
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	summary := index.BuildSummary(r.Config.Name, r.Config.Description, summaries)
	data, err := index.Marshal(summary)
	if err != nil {
		return nil, err
	}
	t, err := writeTarget(w, layout.SummaryTarget, data)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	targets = append(targets, t)
	mark("index")

	// Artifacts: the TUF targets and the l3afd tree, linked from packages/.
	byLabel := map[string]*item{}
	for _, it := range valid {
		byLabel[it.label()] = it
	}
	arts, err := r.writeArtifacts(ctx, w, pkgs, byLabel)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	targets = append(targets, arts...)
	res.Targets = len(targets)
	w.forgetDirs()
	mark("output")
	if testHookMidBuild != nil {
		if err := testHookMidBuild(); err != nil {
			return nil, err
		}
	}

	// TUF metadata.
	metaDir := r.paths().Metadata()
	tr, err := tufrepo.Load(ctx, metaDir)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	tc, err := r.Config.tufConfig(0)
	if err != nil {
		return nil, err
	}
	sort.Slice(targets, func(i, j int) bool { return targets[i].Path < targets[j].Path })
	ur, err := tr.Update(ctx, kr, targets, tc, now)
	if err != nil {
		return nil, fmt.Errorf("build: sign: %w", err)
	}
	if ur != nil {
		res.MetadataVersions = map[string]int64{}
		for _, n := range ur.Changed {
			if strings.HasPrefix(n, tufrepo.RoleBins+"-") {
				res.BinsSigned++
			} else {
				res.RolesSigned = append(res.RolesSigned, n)
			}
		}
		for n, v := range ur.Versions {
			if !strings.HasPrefix(n, tufrepo.RoleBins+"-") {
				res.MetadataVersions[n] = v
			}
		}
	}
	res.Bins = tr.Info().Bins
	if err := r.writeMetadata(tr, w); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	mark("sign")

	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w.finish()
	res.Kept = w.kept
	files := w.files
	w.old, w.files = nil, nil
	<-cleaned
	sr, err := cat.Finish(ctx, r.siteData(now, summary, pkgs, tr, tmp))
	if err != nil {
		return nil, fmt.Errorf("build: catalogue: %w", err)
	}
	res.PagesRendered, res.PagesKept = sr.Rendered, sr.Kept
	manifest := &treeManifest{Files: files, Catalogue: sr.Fingerprints}
	files = nil
	mark("site")

	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The metadata of record moves forward only once the output is
	// complete; a crash between here and the swap is repaired by the next
	// build, which finds nothing to change and writes the same output.
	if err := tr.Save(ctx, metaDir); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	if err := swapTree(tmp, out, manifest); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	keep = true
	pc.Entries = map[string]*pkgEntry{}
	for _, e := range entries {
		if e != nil {
			pc.Entries[e.Package.Name] = e
		}
	}
	_ = pc.save() // a cache: a failure only costs time
	// Versions put into packages/ by hand get their added date recorded
	// now, so later builds keep it.
	for _, it := range valid {
		if it.recordAdded {
			_ = atomicfile.WriteFile(filepath.Join(filepath.Dir(it.path), layout.AddedFile), []byte(now.Format(time.RFC3339)+"\n"), 0o644)
		}
	}
	mark("swap")
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// validPageNames reports whether every package name of a catalogue
// manifest is a plain path component.
func validPageNames(m map[string]string) bool {
	for name := range m {
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\") {
			return false
		}
	}
	return true
}

// checkLayout checks that the directory an artifact lives in agrees with
// its manifest.
func (it *item) checkLayout() []pkgfmt.Problem {
	m := it.desc.Manifest
	var ps []pkgfmt.Problem
	add := func(field, format string, args ...any) {
		ps = append(ps, pkgfmt.Problem{Severity: pkgfmt.SeverityError, Package: it.label(), File: filepath.ToSlash(filepath.Join(layout.PackagesDir, it.rel)),
			Field: field, Code: "repo.layout", Message: fmt.Sprintf(format, args...)})
	}
	if m.Name != it.name {
		add("name", "the manifest says name %q but the package sits under packages/%s/: add it with ebpfrepo add", m.Name, it.name)
	}
	if m.Version != it.version {
		add("version", "the manifest says version %q but the package sits under packages/%s/%s/: add it with ebpfrepo add", m.Version, it.name, it.version)
	}
	if m.Artifact != filepath.Base(it.path) {
		add("artifact", "the manifest's artifact is %q but the file is %q", m.Artifact, filepath.Base(it.path))
	}
	return ps
}

// writeTarget writes an index file at its consistent (hash-prefixed) name
// under targets/ and returns it as a TUF target.
func writeTarget(w *treeWriter, tp string, data []byte) (tufrepo.Target, error) {
	sum := sha256.Sum256(data)
	t := tufrepo.Target{Path: tp, Length: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
	_, err := w.write(layout.Target(tp, t.SHA256), data)
	return t, err
}

// writeMetadata writes the TUF metadata into metadata/: every file
// tufrepo publishes, plus every N.root.json of the repository so that
// clients holding an old root can follow the chain.
func (r *Repo) writeMetadata(tr *tufrepo.Repo, w *treeWriter) error {
	files := tr.Files()
	for name, data := range files {
		name = strings.TrimPrefix(filepath.ToSlash(name), layout.MetadataDir+"/")
		if strings.Contains(name, "/") || name == "" || name == "." || name == ".." {
			return fmt.Errorf("metadata file name %q", name)
		}
		if _, err := w.write(layout.Metadata(name), data); err != nil {
			return err
		}
	}
	roots, _ := filepath.Glob(filepath.Join(r.paths().Metadata(), "*.root.json"))
	for _, p := range roots {
		rel := layout.Metadata(filepath.Base(p))
		if _, ok := files[rel]; ok {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if _, err := w.write(rel, data); err != nil {
			return err
		}
	}
	return nil
}

// siteHead is the repository-wide part of the catalogue's data.
func (r *Repo) siteHead() *site.Data {
	return &site.Data{Repository: r.Config.Name, Description: r.Config.Description, BaseURL: r.Config.BaseURL}
}

// siteData fills the catalogue's data.
func (r *Repo) siteData(now time.Time, summary *index.Summary, pkgs []*index.Package, tr *tufrepo.Repo, dir string) *site.Data {
	d := &site.Data{Repository: r.Config.Name, Description: r.Config.Description, BaseURL: r.Config.BaseURL,
		Generated: now, Summary: summary, Packages: pkgs}
	info := tr.Info()
	d.Trust.RootPath = layout.FirstRoot
	if data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(layout.FirstRoot))); err == nil {
		sum := sha256.Sum256(data)
		d.Trust.RootSHA256 = hex.EncodeToString(sum[:])
	}
	d.Trust.Bins = info.Bins
	for _, ri := range info.Roles {
		ri.KeyIDs = slices.Clone(ri.KeyIDs)
		d.Trust.Roles = append(d.Trust.Roles, ri)
	}
	return d
}
