package repo

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/ebpfrepo/ebpfrepo/bpfobj"
	"github.com/ebpfrepo/ebpfrepo/client"
	"github.com/ebpfrepo/ebpfrepo/internal/buildcache"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

// validator hashes and describes the artifacts of a build, reading an
// artifact only when the stat cache does not know its sha256 or the
// description cache lacks its description. Safe for concurrent use.
type validator struct {
	lint  pkgfmt.LintOptions
	descs *buildcache.Descriptions
	stats *buildcache.Stats

	mu    sync.Mutex
	fresh map[string]buildcache.StatEntry // artifacts read in this build
	// hashes are the artifacts read in this build, by inode, for the
	// check (buildRun.hashes).
	hashes *client.FileHashes
}

func (r *Repo) newValidator() (*validator, error) {
	lint, salt, err := r.lintTrust()
	if err != nil {
		return nil, err
	}
	lint.Verify, lint.Objects = r.Config.Verify, bpfobj.NewObjectCache()
	return &validator{
		lint:  lint,
		descs: buildcache.NewDescriptions(r.paths().Cache("desc")).WithSalt(salt),
		stats: buildcache.LoadStats(r.paths().Cache("files.json")),
		fresh: map[string]buildcache.StatEntry{},
	}, nil
}

// digest learns the sha256 of every artifact: from the stat cache when
// its size and modification time are unchanged (the description is taken
// later, and only if plan does not reuse its package), else by reading
// it, which validates it on the way.
func (b *buildRun) digest(ctx context.Context) error {
	var err error
	if b.v, err = b.r.newValidator(); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	b.trustSalt = b.v.descs.Salt()
	b.hashes = client.NewFileHashes()
	b.v.hashes = b.hashes
	if err := b.each(ctx, b.items, true); err != nil {
		return err
	}
	b.rehash(ctx)
	return nil
}

// rehash reads, on one core in the background while the next stages run,
// the artifacts whose sha256 came from the stat cache rather than from
// their bytes, noting them in b.hashes: the check reads back every
// artifact of the tree it publishes (it is what finds an artifact under
// packages/ that changed without its size and mtime), and finds these
// already read. Whatever rehash has not reached when the check starts
// (stopRehash), the check reads itself.
func (b *buildRun) rehash(ctx context.Context) {
	var todo []string
	for _, it := range b.items {
		if it.sha != "" && !it.read && it.problem == nil {
			todo = append(todo, it.file())
		}
	}
	if len(todo) == 0 {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, p := range todo {
			if ctx.Err() != nil {
				return
			}
			_, _ = b.hashes.Hash(p) // a file it cannot read, the check reports
		}
	}()
	b.stopRehash = func() { cancel(); <-done }
}

// describe takes the descriptions plan did not make unnecessary, then
// sorts the versions into those published and those refused.
func (b *buildRun) describe(ctx context.Context) error {
	var rest []*item
	for _, it := range b.items {
		switch {
		case !it.lazy:
		case it.reused:
			it.lazy = false
			b.res.Cached++
			b.tick()
		default:
			it.lazy = false
			rest = append(rest, it)
		}
	}
	if err := b.each(ctx, rest, false); err != nil {
		return err
	}
	b.recheckCached(ctx)
	b.v.finish(b.items)
	b.parked = b.v.store()
	b.v = nil // its caches are not needed past validation: hold less
	return b.sortValid()
}

// recheckCached describes again, from the artifact's bytes, every version
// whose cached description has an error or disagrees with where the
// artifact sits: a damaged or forged cache entry must not be blamed on
// the package. The fresh description replaces the entry.
func (b *buildRun) recheckCached(ctx context.Context) {
	for _, it := range b.items {
		if !it.cached || it.reused || it.problem != nil || !it.descErrors() && len(it.checkLayout()) == 0 {
			continue
		}
		d, raw, sha, err := describeFile(ctx, it.file(), b.v.lint)
		if err != nil {
			continue // the later stages report it
		}
		it.sha = sha
		_ = b.v.descs.PutRaw(sha, b.v.lint.Verify, raw)
		it.cached = false
		it.setDesc(d, raw)
		if !it.descErrors() && len(it.checkLayout()) == 0 {
			b.res.Notes = append(b.res.Notes, fmt.Sprintf("%s: the build cache's description of %s disagreed with the artifact (a damaged or altered .cache/): described again from its bytes", it.label(), filepath.ToSlash(filepath.Join(layout.PackagesDir, it.rel))))
		}
	}
}

// each runs validateOne over list on every CPU, counting into the result.
func (b *buildRun) each(ctx context.Context, list []*item, lazy bool) error {
	type done struct {
		it     *item
		hashed bool
		err    error
	}
	work := make(chan *item)
	results := make(chan done)
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				hashed, err := b.v.validateOne(ctx, it, lazy)
				results <- done{it, hashed, err}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(work)
		for _, it := range list {
			if it.problem != nil {
				results <- done{it: it}
				continue
			}
			select {
			case work <- it:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	var firstErr error
	for d := range results {
		if d.err != nil && firstErr == nil {
			firstErr = d.err
		}
		if d.hashed {
			b.res.Hashed++
		}
		if d.it.desc != nil {
			if d.it.cached {
				b.res.Cached++
			} else {
				b.res.Validated++
			}
		}
		if !d.it.lazy {
			b.tick()
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if firstErr != nil {
		return fmt.Errorf("build: %w", firstErr)
	}
	return nil
}

func (b *buildRun) tick() {
	if b.ticks >= len(b.items) {
		return
	}
	b.ticks++
	if b.opts.Progress != nil {
		b.opts.Progress(b.ticks, len(b.items))
	}
}

// finish records the artifacts read in the stat cache and forgets those
// that are gone.
func (v *validator) finish(items []*item) {
	defer v.descs.Flush() // a cache: a failure only costs time
	for rel, e := range v.fresh {
		v.stats.Record(rel, e)
	}
	live := map[string]bool{}
	for _, it := range items {
		live[it.rel] = true
	}
	v.stats.Prune(live)
	_ = v.stats.Save() // a cache: a failure only costs time
}

// validateOne hashes and describes it. With lazy, an artifact the stat
// cache knows gets only its sha256 (it.lazy is set): its description is
// taken later, if needed.
func (v *validator) validateOne(ctx context.Context, it *item, lazy bool) (hashed bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	fi, err := os.Stat(it.file())
	if err != nil {
		return false, err
	}
	it.length = fi.Size()
	if sha, ok := v.stats.Lookup(it.rel, fi); ok {
		if lazy {
			it.sha, it.lazy = sha, true
			return false, nil
		}
		if d, raw, ok := v.descs.GetRaw(sha, v.lint.Verify); ok {
			it.sha, it.cached = sha, true
			it.setDesc(d, raw)
			return false, nil
		}
	}
	var buf []byte
	if b, ok := artifactBufs.Get().(*[]byte); ok {
		buf = *b
	}
	data, sha, err := readArtifactInto(buf, it.file(), v.lint.Limits, v.hashes)
	if err != nil {
		return false, err
	}
	// Nothing keeps the bytes once described (the description holds
	// copies of what it shows), so the buffer serves the next artifact.
	defer func() {
		if cap(data) <= maxPooledArtifact {
			artifactBufs.Put(&data)
		}
	}()
	it.sha, it.read = sha, true
	it.length = int64(len(data))
	v.mu.Lock()
	v.fresh[it.rel] = buildcache.StatEntry{Size: fi.Size(), MTime: fi.ModTime().UnixNano(), SHA256: sha}
	v.mu.Unlock()
	if d, raw, ok := v.descs.GetRaw(sha, v.lint.Verify); ok {
		it.cached = true
		it.setDesc(d, raw)
		return true, nil
	}
	d := describeBytes(ctx, it.file(), data, v.lint)
	raw, err := json.Marshal(d)
	if err != nil {
		it.desc = d
		return true, nil
	}
	_ = v.descs.PutRaw(sha, v.lint.Verify, raw)
	it.setDesc(d, raw)
	return true, nil
}

// maxPooledArtifact bounds the artifact buffers kept for reuse.
const maxPooledArtifact = 4 << 20

// sortValid keeps the versions without errors and groups them by
// package; the others fail the build, or with SkipInvalid are listed and
// left out.
func (b *buildRun) sortValid() error {
	var bad pkgfmt.Problems
	b.invalid = map[string]bool{}
	for _, it := range b.items {
		if it.reused {
			b.valid = append(b.valid, it)
			continue
		}
		errs := it.errors()
		if len(errs) == 0 {
			errs = it.checkLayout()
		}
		if len(errs) == 0 && it.desc != nil {
			errs = b.r.policyProblems(it.label(), it.name, it.desc)
		}
		b.res.Warnings += it.warnings
		if len(errs) > 0 {
			b.invalid[it.name] = true
			bad = append(bad, errs...)
			b.res.Skipped = append(b.res.Skipped, Skipped{Package: it.label(), Problems: errs})
			continue
		}
		b.valid = append(b.valid, it)
	}
	if len(bad) > 0 && !b.opts.SkipInvalid {
		return &InvalidError{Op: "build", Problems: bad}
	}
	b.group()
	return nil
}

// group makes a pkgBuild of each package's valid versions (items are
// sorted by name).
func (b *buildRun) group() {
	for i := 0; i < len(b.valid); {
		j := i
		for j < len(b.valid) && b.valid[j].name == b.valid[i].name {
			j++
		}
		its := b.valid[i:j]
		i = j
		b.res.Versions += len(its)
		b.res.Artifacts += len(its)
		for _, it := range its {
			b.res.Bytes += it.length
		}
		pb := &pkgBuild{name: its[0].name, items: its}
		if e := b.reused[pb.name]; e != nil {
			b.res.PackagesReused++
			b.res.Warnings += e.Warnings
			pb.pkg = e.Package
		} else {
			for _, it := range its {
				if it.added.IsZero() {
					it.recordAdded = true
				}
			}
		}
		b.pkgs = append(b.pkgs, pb)
	}
	b.res.Packages = len(b.pkgs)
}

// errors returns the error problems of it, named by its label, and
// counts its warnings.
// descErrors reports whether its description holds an error.
func (it *item) descErrors() bool {
	if it.desc == nil {
		return false
	}
	for _, p := range it.desc.Problems {
		if p.Severity == pkgfmt.SeverityError {
			return true
		}
	}
	return false
}

func (it *item) errors() pkgfmt.Problems {
	var errs pkgfmt.Problems
	if it.desc != nil {
		for _, p := range it.desc.Problems {
			if p.Severity == pkgfmt.SeverityError {
				p.Package = it.label()
				errs = append(errs, p)
			} else {
				it.warnings++
			}
		}
	}
	if it.problem != nil {
		p := *it.problem
		p.Package = it.label()
		errs = append(errs, p)
	}
	return errs
}
