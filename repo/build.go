package repo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ebpfrepo/ebpfrepo/client"
	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/internal/buildcache"
	"github.com/ebpfrepo/ebpfrepo/internal/outtree"
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
	// FullCheck makes the check before the swap go through TUF for every
	// package, not only for those this build changed (ebpfrepo build
	// --full-check; a build without a spare tree always does).
	FullCheck bool
	// Phase, if set, is told as each stage of the build starts, with the
	// stage's name and what it does ("sign", "TUF metadata").
	Phase func(name, what string)
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
	// Retained counts the files of the previous output kept only for the
	// grace period: they left the current metadata (Config.Grace).
	Retained int `json:"retained_files"`
	// Checked counts the targets the build read back and verified in its
	// new output, as ebpfrepo check does, before publishing it.
	Checked int `json:"checked_targets"`
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
	// Notes are things the maintainers should act on (a publisher's role
	// past half its validity, targets due for an offline renewal).
	Notes   []string `json:"notes,omitempty"`
	Phases  []Phase  `json:"phases"`
	Seconds float64  `json:"seconds"`
}

// Skipped is an invalid version left out of a build.
type Skipped struct {
	Package  string          `json:"package"` // name@version
	Problems pkgfmt.Problems `json:"problems"`
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
//
// A build is a list of stages, each a method of buildRun that takes what
// the earlier ones produced (docs/architecture.md walks through them).
func (r *Repo) Build(ctx context.Context, opts BuildOptions) (*BuildResult, error) {
	b, err := r.startBuild(opts)
	if err != nil {
		return nil, err
	}
	defer b.close()
	for _, st := range []struct {
		name string
		run  func(context.Context) error
		what string
	}{
		{"scan", b.scan, "list packages/ and the yanks; load the TUF metadata of record"},
		{"digest", b.digest, "the sha256 of every artifact (stat cache, else read and validated)"},
		{"keyless", b.keylessCheck, "verify the Sigstore bundles of keyless publishers' versions, offline"},
		{"plan", b.plan, "which unchanged packages the previous tree serves as they are"},
		{"validate", b.describe, "descriptions of the rest; refuse (or skip) invalid versions"},
		{"prepare", b.prepare, "the temporary output, from the spare tree when there is one"},
		{"index", b.index, "index files and catalogue pages, package by package"},
		{"output", b.artifacts, "artifacts as TUF targets and in the l3afd tree"},
		{"sign", b.sign, "TUF metadata"},
		{"site", b.catalogue, "home page, search, trust page"},
		{"check", b.check, "read the new tree back as a client would: nothing unverified is published"},
		{"swap", b.publish, "metadata of record, then the swap; caches"},
	} {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if opts.Phase != nil {
			opts.Phase(st.name, st.what)
		}
		if err := st.run(ctx); err != nil {
			return nil, err
		}
		b.mark(st.name)
	}
	b.res.Seconds = time.Since(b.start).Seconds()
	return b.res, nil
}

// buildRun is one build: its inputs, then what each stage produces.
type buildRun struct {
	*session
	opts  BuildOptions
	out   string
	res   *BuildResult
	start time.Time
	phase time.Time

	// scan, digest
	items []*item // every name@version under packages/, sorted
	yanks *yankFile
	v     *validator
	ticks int // items validated, for Progress

	trustSalt string // the digest of what signatures are verified against (lintTrust), in package keys
	// hashes are the artifacts read in this build (digest, rehash), by
	// inode, which the check does not read again through the tree's
	// links; stopRehash ends the background rehash.
	hashes     *client.FileHashes
	stopRehash func()
	keyless    *keylessState

	// plan
	spare *outtree.Spare
	// verified are the files of the adopted spare that plan read back
	// (path → sha256): the self-check does not read them again.
	verified map[string]string
	pc       *buildcache.Packages
	reused   map[string]*buildcache.PackageEntry // unchanged packages, by name

	// validate
	parked  *descStore      // where the validated versions' descriptions wait for the index stage
	valid   []*item         // the versions published
	invalid map[string]bool // packages with a version left out
	pkgs    []*pkgBuild     // the packages published, by name

	// prepare
	tmp      string
	w        *outtree.Writer
	oldPages map[string]string // catalogue pages in the reused tree
	cleaned  chan struct{}     // closed once the reused tree's old catalogue is gone
	keep     bool              // tmp became the output

	// index, output
	cat     *site.Catalogue
	targets []tufrepo.Target
	summary *index.Summary

	// scan (loaded), sign, site
	tr         *tufrepo.Repo
	sigMu      sync.Mutex
	pubSigs    map[string]*index.Signatures // per publisher (signatures)
	manifest   *buildcache.TreeManifest
	binsSigned map[string]bool // the bins re-signed by this build
}

// pkgBuild is one package of the build: its versions, and its index once
// built (or taken from the package cache).
type pkgBuild struct {
	name  string
	items []*item
	pkg   *index.Package
	entry *buildcache.PackageEntry // what the package cache remembers after this build
}

// startBuild takes the lock, the clock and the keys and resolves the
// output directory.
func (r *Repo) startBuild(opts BuildOptions) (*buildRun, error) {
	s, err := r.open("build", opts.Now)
	if err != nil {
		return nil, err
	}
	out, err := r.outDir(opts.OutDir)
	if err != nil {
		s.close()
		return nil, err
	}
	now := time.Now()
	return &buildRun{session: s, opts: opts, out: out, start: now, phase: now,
		res: &BuildResult{OutDir: out, RolesSigned: []string{}}}, nil
}

func (b *buildRun) mark(name string) {
	t := time.Now()
	b.res.Phases = append(b.res.Phases, Phase{Name: name, Seconds: t.Sub(b.phase).Seconds()})
	b.phase = t
}

// close removes the temporary output unless it was published, and lets
// the lock go.
func (b *buildRun) close() {
	if b.stopRehash != nil {
		b.stopRehash()
	}
	if b.cleaned != nil {
		<-b.cleaned
	}
	if b.tmp != "" && !b.keep {
		outtree.RemoveAll(b.tmp)
	}
	b.session.close()
}

// scan lists packages/ (removing what interrupted adds left there) and
// the yanks.
func (b *buildRun) scan(ctx context.Context) error {
	var err error
	if b.items, err = b.r.scan(); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	if b.yanks, err = b.r.loadYanks(); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	if b.tr, _, err = b.metadata(ctx); err != nil {
		return err
	}
	return nil
}

// errTreeChanged reports a file of the reused output tree that went
// missing while the build ran, which the lock should make impossible.
var errTreeChanged = errors.New("the previous output tree changed while the build ran (another program touched it): build again")
