package repo

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sync"

	"github.com/ebpfrepo/ebpfrepo/bpfobj"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

// validate hashes and describes every item, in parallel, reading an
// artifact only when the stat cache does not know its sha256 or the
// description cache lacks it. It runs in two passes: the first learns
// the sha256 of every artifact (from the stat cache, or by reading and
// validating it); then reuse, if set, marks the items of packages whose
// inputs are unchanged (their descriptions are not needed); the second
// pass takes the descriptions of the other items from the cache.
func (r *Repo) validate(ctx context.Context, items []*item, res *BuildResult, progress func(int, int), reuse func([]*item)) error {
	verify := r.Config.Verify
	lint := pkgfmt.LintOptions{Verify: verify, Objects: bpfobj.NewObjectCache()}
	cache := newDescCache(r.paths().Cache("desc"))
	defer cache.flush() // a cache: a failure only costs time
	stats := loadStatCache(r.paths().Cache("files.json"))
	var mu sync.Mutex
	fresh := map[string]statEntry{}
	n := 0
	tick := func() {
		n++
		if progress != nil {
			progress(n, len(items))
		}
	}

	pass := func(list []*item, lazy bool) error {
		work := make(chan *item)
		type done struct {
			it     *item
			hashed bool
			err    error
		}
		results := make(chan done)
		var wg sync.WaitGroup
		for range runtime.NumCPU() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for it := range work {
					hashed, err := r.validateOne(ctx, it, stats, cache, lint, &mu, fresh, lazy)
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
				res.Hashed++
			}
			if d.it.desc != nil {
				if d.it.cached {
					res.Cached++
				} else {
					res.Validated++
				}
			}
			if !d.it.lazy {
				tick()
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
	if err := pass(items, reuse != nil); err != nil {
		return err
	}
	var rest []*item
	if reuse != nil {
		reuse(items)
		for _, it := range items {
			switch {
			case !it.lazy:
			case it.reused:
				it.lazy = false
				res.Cached++
				tick()
			default:
				it.lazy = false
				rest = append(rest, it)
			}
		}
	}
	if err := pass(rest, false); err != nil {
		return err
	}
	for rel, e := range fresh {
		stats.Entries[rel] = e
	}
	// Forget files that are gone.
	live := map[string]bool{}
	for _, it := range items {
		live[it.rel] = true
	}
	for rel := range stats.Entries {
		if !live[rel] {
			delete(stats.Entries, rel)
		}
	}
	_ = stats.save() // a cache: a failure only costs time
	return nil
}

// validateOne hashes and describes it. With lazy, an artifact the stat
// cache knows gets only its sha256 (it.lazy is set): its description is
// taken later, if needed.
func (r *Repo) validateOne(ctx context.Context, it *item, stats *statCache, cache *descCache, lint pkgfmt.LintOptions, mu *sync.Mutex, fresh map[string]statEntry, lazy bool) (hashed bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	fi, err := os.Stat(it.path)
	if err != nil {
		return false, err
	}
	it.length = fi.Size()
	sha, ok := stats.lookup(it.rel, fi)
	if ok {
		if lazy {
			it.sha, it.lazy = sha, true
			return false, nil
		}
		if d, raw, ok := cache.getRaw(sha, lint.Verify); ok {
			it.sha, it.cached = sha, true
			it.setDesc(d, raw)
			return false, nil
		}
	}
	var buf []byte
	if b, ok := artifactBufs.Get().(*[]byte); ok {
		buf = *b
	}
	data, sha, err := readArtifactInto(buf, it.path, lint.Limits)
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
	it.sha = sha
	it.length = int64(len(data))
	mu.Lock()
	fresh[it.rel] = statEntry{Size: fi.Size(), MTime: fi.ModTime().UnixNano(), SHA256: sha}
	mu.Unlock()
	if d, raw, ok := cache.getRaw(sha, lint.Verify); ok {
		it.cached = true
		it.setDesc(d, raw)
		return true, nil
	}
	d := describeBytes(ctx, it.path, data, lint)
	raw, err := json.Marshal(d)
	if err != nil {
		it.desc = d
		return true, nil
	}
	_ = cache.putRaw(sha, lint.Verify, raw)
	it.setDesc(d, raw)
	return true, nil
}

// maxPooledArtifact bounds the artifact buffers kept for reuse.
const maxPooledArtifact = 4 << 20
