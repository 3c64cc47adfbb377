package repo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/internal/atomicfile"
	"github.com/ebpfrepo/ebpfrepo/internal/buildcache"
	"github.com/ebpfrepo/ebpfrepo/internal/buildx"
	"github.com/ebpfrepo/ebpfrepo/internal/outtree"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
	"github.com/ebpfrepo/ebpfrepo/site"
	"github.com/ebpfrepo/ebpfrepo/tufrepo"
)

// prepare makes the temporary output beside the output directory: the
// spare tree (the output before the current one) when it can be adopted,
// so only what differs is written; its catalogue is cleared while the
// index files and artifacts are written.
func (b *buildRun) prepare(ctx context.Context) error {
	tmp, err := outtree.PrepareKeeping(b.out, b.spare)
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}
	b.tmp = tmp
	m := outtree.Adopt(b.out, tmp, b.spare)
	if m != nil {
		b.verified = b.spare.Verified() // now files of the build directory
	}
	b.spare = nil
	if m == nil && len(b.reused) > 0 {
		// The spare could not be adopted after all: build its packages.
		if err := b.unreuse(ctx); err != nil {
			return err
		}
	}
	var old map[string]string
	if m != nil {
		old, b.oldPages = m.Files, m.Catalogue
		if b.oldPages != nil && !validPageNames(b.oldPages) {
			b.oldPages = nil
		}
	}
	treeReused, pagesKept := old != nil, b.oldPages != nil
	b.cleaned = make(chan struct{})
	go func() {
		defer close(b.cleaned)
		if treeReused {
			outtree.CleanCatalogue(tmp, pagesKept)
		}
	}()
	b.w = outtree.NewWriter(tmp, old)
	if treeReused && !pagesKept {
		<-b.cleaned // the old catalogue goes before the new one is written
	}
	if b.cat, err = site.NewCatalogue(tmp, b.r.siteHead(), site.WriteOptions{Previous: b.oldPages}); err != nil {
		return fmt.Errorf("build: catalogue: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(tmp, filepath.Dir(filepath.FromSlash(layout.Target(layout.SummaryTarget, "x")))), 0o755); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	return nil
}

// unreuse builds the packages plan meant to reuse, when the spare tree
// could not be adopted: their descriptions are taken now.
func (b *buildRun) unreuse(ctx context.Context) error {
	var its []*item
	for _, pb := range b.pkgs {
		e := b.reused[pb.name]
		if e == nil {
			continue
		}
		pb.pkg = nil
		b.res.PackagesReused--
		b.res.Warnings -= e.Warnings
		for _, it := range pb.items {
			it.reused = false
			if it.added.IsZero() {
				it.recordAdded = true
			}
			its = append(its, it)
		}
	}
	b.reused = nil
	b.res.Cached -= len(its)
	v, err := b.r.newValidator()
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}
	b.v = v
	v.hashes = b.hashes
	defer func() { b.v.finish(b.items); b.parked = b.v.store(); b.v = nil }()
	if err := b.each(ctx, its, false); err != nil {
		return err
	}
	for _, it := range its {
		if errs := it.errors(); len(errs) > 0 {
			return &InvalidError{Op: "build", Problems: errs}
		}
		b.res.Warnings += it.warnings
	}
	return nil
}

// index writes the index file and the catalogue pages of every package,
// one package per worker at a time, then the summary (all.json). A
// package is built from its versions' packed descriptions, so only the
// packages in the workers' hands are decoded; once its pages are written
// only what the home page and search.json read of its featured version's
// description is still needed (site.HomeDescription), so the rest is
// dropped: a build holds a fraction of one description per package, not
// one per version.
func (b *buildRun) index(ctx context.Context) error {
	b.targets = make([]tufrepo.Target, len(b.pkgs), len(b.pkgs)+1)
	summaries := make([]index.SummaryPackage, len(b.pkgs))
	if err := buildx.Parallel(ctx, len(b.pkgs), func(i int) error {
		pb := b.pkgs[i]
		var err error
		if e := b.reused[pb.name]; e != nil {
			b.targets[i], summaries[i], err = b.keepPackage(pb, e)
		} else {
			b.targets[i], summaries[i], err = b.buildPackage(ctx, pb)
		}
		return err
	}); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	b.parked = nil // every parked description has been read back
	b.summary = index.BuildSummary(b.r.Config.Name, b.r.Config.Description, summaries)
	data, err := index.Marshal(b.summary)
	if err != nil {
		return err
	}
	t, err := b.writeTarget(layout.SummaryTarget, data)
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}
	b.targets = append(b.targets, t)
	return nil
}

// keepPackage keeps an unchanged package's index file and pages, which
// plan found in the adopted tree.
func (b *buildRun) keepPackage(pb *pkgBuild, e *buildcache.PackageEntry) (tufrepo.Target, index.SummaryPackage, error) {
	tp := layout.PackageIndexTarget(pb.name)
	if !b.w.Claim(layout.Target(tp, e.IndexSHA), e.IndexSHA) || !b.cat.KeepPackage(e.Package, e.IndexSHA) {
		return tufrepo.Target{}, index.SummaryPackage{}, fmt.Errorf("package %s: %w", pb.name, errTreeChanged)
	}
	pb.entry = e
	return tufrepo.Target{Path: tp, Length: e.IndexLen, SHA256: e.IndexSHA}, e.Summary, nil
}

// buildPackage builds a package's index from its versions' descriptions,
// writes the index file and the pages, and keeps what the package cache
// and the home page need.
func (b *buildRun) buildPackage(ctx context.Context, pb *pkgBuild) (tufrepo.Target, index.SummaryPackage, error) {
	var ins []index.VersionInput
	sig := b.signatures(pb.name)
	for _, it := range pb.items {
		added := it.added
		if it.recordAdded {
			added = b.now
		}
		d, err := it.description(ctx, b.parked)
		if err != nil {
			return tufrepo.Target{}, index.SummaryPackage{}, fmt.Errorf("package %s: description of %s: %w", pb.name, it.version, err)
		}
		vsig := sig
		if st, kl := hvciStatus(d), kernelLevel(d); sig != nil && (st != sig.HVCI.Status || kl != sig.Kernel) {
			c := *sig
			c.HVCI.Status, c.Kernel = st, kl
			vsig = &c
		}
		if it.keyless != nil {
			vsig = keylessSignatures(vsig, it.keyless)
		}
		desc := *d
		desc.Manifest.Tests = nil // the index counts the vectors (TestVectors); they travel in the artifact
		ins = append(ins, index.VersionInput{Description: desc, Length: it.length, SHA256: it.sha, Added: added,
			Yanked: b.yanks.lookup(it.name, it.version), Signatures: vsig})
	}
	p := index.BuildPackage(pb.name, ins)
	ins = nil
	pb.pkg = p
	data, err := index.Marshal(p)
	if err != nil {
		return tufrepo.Target{}, index.SummaryPackage{}, err
	}
	t, err := b.writeTarget(layout.PackageIndexTarget(p.Name), data)
	if err != nil {
		return tufrepo.Target{}, index.SummaryPackage{}, err
	}
	sum := index.Summarize(p, t.Length, t.SHA256)
	// The index file holds everything the package's pages show.
	if err := b.cat.WritePackage(p, t.SHA256); err != nil {
		return tufrepo.Target{}, index.SummaryPackage{}, fmt.Errorf("catalogue: %w", err)
	}
	// What is left of the descriptions is what the home page reads of
	// the featured version's, for the home page and the package cache.
	fi := p.FeaturedIndex()
	for j := range p.Versions {
		if j != fi {
			p.Versions[j].Description = nil
		} else {
			h := site.HomeDescription(p.Versions[j].Describe())
			internDescription(&h)
			p.Versions[j].Description = &h
		}
	}
	if !b.invalid[p.Name] && cacheable(pb.items) {
		e := &buildcache.PackageEntry{Key: pkgKey(p.Name, pb.items, b.r.Config.Verify, b.trustSalt, b.yanks, sig, b.now), IndexSHA: t.SHA256, IndexLen: t.Length,
			Summary: sum, Package: p}
		for _, it := range pb.items {
			e.Warnings += it.warnings
		}
		pb.entry = e
	}
	return t, sum, nil
}

// writeTarget writes an index file at its consistent (hash-prefixed) name
// under targets/ and returns it as a TUF target.
func (b *buildRun) writeTarget(tp string, data []byte) (tufrepo.Target, error) {
	sum := sha256.Sum256(data)
	t := tufrepo.Target{Path: tp, Length: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
	_, err := b.w.Write(layout.Target(tp, t.SHA256), data)
	return t, err
}

// artifacts places every artifact — at its consistent target name for
// each platform, in the l3afd tree, and under l3afd/<name>/latest/ for
// the newest stable version — and lists them as TUF targets.
func (b *buildRun) artifacts(ctx context.Context) error {
	arts, err := writeArtifacts(ctx, b.w, b.pkgs)
	if err == nil {
		err = b.writeKeyless()
	}
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}
	b.targets = append(b.targets, arts...)
	b.res.Targets = len(b.targets)
	b.w.ForgetDirs()
	if testHookMidBuild != nil {
		return testHookMidBuild()
	}
	return nil
}

// sign signs the TUF metadata for the targets and writes it into the
// output, with every N.root.json of the repository so that clients
// holding an old root can follow the chain.
func (b *buildRun) sign(ctx context.Context) error {
	tr := b.tr
	if err := b.checkPublisherRoles(); err != nil {
		return err
	}
	sort.Slice(b.targets, func(i, j int) bool { return b.targets[i].Path < b.targets[j].Path })
	ur, err := tr.Update(ctx, b.targets)
	if err != nil {
		return fmt.Errorf("build: sign: %w", err)
	}
	b.recordSigned(ur)
	b.res.Notes = append(b.res.Notes, ur.Warnings...)
	b.res.Bins = tr.Info().Bins
	if err := b.writeMetadata(); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	return nil
}

// publisherRenewal is how long before a publisher's role expires the
// build starts saying so.
const publisherRenewal = 30 * 24 * time.Hour

// checkPublisherRoles refuses to publish a publisher's role that has
// expired, and notes one that expires within publisherRenewal: only its
// author can renew it.
func (b *buildRun) checkPublisherRoles() error {
	for _, g := range b.tr.Grants() {
		pr, ok := b.tr.PublisherRoleOf(g.Publisher)
		if !ok {
			continue
		}
		exp := pr.Expires.UTC().Format(time.RFC3339)
		if !pr.Expires.After(b.signNow) {
			return fmt.Errorf("build: publisher %s: role %s%s.json version %d expired on %s: its author signs a new version (ebpfrepo sign), then add it with --signed",
				g.Publisher, tufrepo.PublisherPrefix, g.Publisher, pr.Version, exp)
		}
		if pr.Expires.Sub(b.signNow) < publisherRenewal {
			b.res.Notes = append(b.res.Notes, fmt.Sprintf("publisher %s: role version %d expires %s: ask its author to sign a new version", g.Publisher, pr.Version, exp))
		}
	}
	return nil
}

// signatures is the signing record of a package's versions.
// Each publisher's record is made once per build: PublisherRoleOf verifies
// the role's signatures, and plan and index ask for every package.
func (b *buildRun) signatures(name string) *index.Signatures {
	g, ok := b.tr.ClaimOf(name)
	if !ok {
		sig := index.RepositorySigned()
		return &sig
	}
	b.sigMu.Lock()
	defer b.sigMu.Unlock()
	if sig, ok := b.pubSigs[g.Publisher]; ok {
		return sig
	}
	sig := index.RepositorySigned()
	sig.Package = index.PackageSignature{Signer: index.SignerPublisher, Publisher: g.Publisher, Role: g.Role()}
	if pr, ok := b.tr.PublisherRoleOf(g.Publisher); ok {
		sig.Package.KeyIDs = pr.KeyIDs
	}
	if b.pubSigs == nil {
		b.pubSigs = map[string]*index.Signatures{}
	}
	b.pubSigs[g.Publisher] = &sig
	return &sig
}

// recordSigned notes in the result which roles got a new version.
func (b *buildRun) recordSigned(ur *tufrepo.Result) {
	if ur == nil {
		return
	}
	b.res.MetadataVersions = map[string]int64{}
	for _, n := range ur.Changed {
		if strings.HasPrefix(n, tufrepo.RoleBins+"-") {
			b.res.BinsSigned++
			if b.binsSigned == nil {
				b.binsSigned = map[string]bool{}
			}
			b.binsSigned[n] = true
		} else {
			b.res.RolesSigned = append(b.res.RolesSigned, n)
		}
	}
	for n, v := range ur.Versions {
		if !strings.HasPrefix(n, tufrepo.RoleBins+"-") {
			b.res.MetadataVersions[n] = v
		}
	}
}

// writeMetadata writes the TUF metadata into metadata/: every file
// tufrepo publishes, one at a time (a bin just signed is then read back
// from the new tree rather than held, until Save), plus every
// N.root.json of the repository.
func (b *buildRun) writeMetadata() error {
	written := map[string]bool{}
	err := b.tr.EachFile(func(name string, data []byte) (string, error) {
		name = strings.TrimPrefix(filepath.ToSlash(name), layout.MetadataDir+"/")
		if strings.Contains(name, "/") || name == "" || name == "." || name == ".." {
			return "", fmt.Errorf("metadata file name %q", name)
		}
		rel := layout.Metadata(name)
		if _, err := b.w.Write(rel, data); err != nil {
			return "", err
		}
		written[rel] = true
		return filepath.Join(b.tmp, filepath.FromSlash(rel)), nil
	})
	if err != nil {
		return err
	}
	roots, _ := filepath.Glob(filepath.Join(b.r.paths().Metadata(), "*.root.json"))
	for _, p := range roots {
		rel := layout.Metadata(filepath.Base(p))
		if written[rel] {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if _, err := b.w.Write(rel, data); err != nil {
			return err
		}
	}
	return nil
}

// catalogue removes what the old tree had and the new one does not, then
// writes the home page, search.json and the trust page, and records the
// tree's manifest.
func (b *buildRun) catalogue(ctx context.Context) error {
	grace, err := b.r.Config.GracePeriod()
	if err != nil {
		return err
	}
	if b.res.Retained, err = b.w.Retain(b.out, b.signNow, grace); err != nil {
		return fmt.Errorf("build: keeping the previous output's files through the grace period: %w", err)
	}
	for _, rel := range b.w.Damaged() {
		b.res.Notes = append(b.res.Notes, fmt.Sprintf("%s: damaged in the published output (its bytes differ from what was published): not kept through the grace period", rel))
	}
	b.w.Finish()
	b.res.Kept = b.w.Kept()
	files := b.w.Files()
	<-b.cleaned
	pkgs := make([]*index.Package, len(b.pkgs))
	for i, pb := range b.pkgs {
		pkgs[i] = pb.pkg
	}
	sr, err := b.cat.Finish(ctx, b.r.siteData(b.now, b.summary, pkgs, b.tr, b.tmp))
	if err != nil {
		return fmt.Errorf("build: catalogue: %w", err)
	}
	b.res.PagesRendered, b.res.PagesKept = sr.Rendered, sr.Kept
	b.manifest = &buildcache.TreeManifest{Files: files, Catalogue: sr.Fingerprints, Retired: b.w.Retired()}
	return nil
}

// publish moves the metadata of record forward and swaps the new tree in;
// then it saves the package cache and records the added dates of
// versions put into packages/ by hand. A crash between the save and the
// swap is repaired by the next build, which finds nothing to change and
// writes the same output.
func (b *buildRun) publish(ctx context.Context) error {
	if err := b.saveMetadata(ctx, b.tr); err != nil {
		return err
	}
	atomic, err := outtree.Swap(b.tmp, b.out, b.manifest)
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}
	if !atomic {
		b.res.Notes = append(b.res.Notes, fmt.Sprintf("%s: this file system cannot exchange two directories in one step (renameat2 RENAME_EXCHANGE): for a moment there was no output; build on a local Linux file system (ext4, xfs, btrfs, tmpfs) for an atomic swap", b.out))
	}
	b.keep = true
	b.pc.Entries = map[string]*buildcache.PackageEntry{}
	for _, pb := range b.pkgs {
		if pb.entry != nil {
			b.pc.Entries[pb.name] = pb.entry
		}
	}
	_ = b.pc.Save() // a cache: a failure only costs time
	for _, it := range b.valid {
		if it.recordAdded {
			_ = atomicfile.WriteFile(filepath.Join(filepath.Dir(it.file()), layout.AddedFile), []byte(b.now.Format(time.RFC3339)+"\n"), 0o644)
		}
	}
	return nil
}

// checkLayout checks that the directory an artifact lives in agrees with
// its manifest.
func (it *item) checkLayout() pkgfmt.Problems {
	m := it.desc.Manifest
	var ps pkgfmt.Problems
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
	if m.Artifact != it.artifact() {
		add("artifact", "the manifest's artifact is %q but the file is %q", m.Artifact, it.artifact())
	}
	return ps
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
