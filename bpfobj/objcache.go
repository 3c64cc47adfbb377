package bpfobj

import (
	"crypto/sha256"
	"slices"
	"sync"
)

// ObjectCache memoises InspectObject by the sha256 of an object's bytes:
// a report is a pure function of those bytes (and of the path, which is
// set on every report handed out), so an object shipped in many packages
// or versions is parsed once. Failures are not cached. Safe for
// concurrent use; a nil *ObjectCache inspects every time. Set it in
// LintOptions.Objects.
type ObjectCache struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]*ObjectReport
}

// maxCachedObjects bounds the memory an ObjectCache holds (reports are a
// few KB each).
const maxCachedObjects = 4096

// NewObjectCache returns an empty cache.
func NewObjectCache() *ObjectCache {
	return &ObjectCache{m: map[[sha256.Size]byte]*ObjectReport{}}
}

// Inspect is InspectObject through the cache. Every call returns a report
// of its own (no slice is shared with another caller's).
func (c *ObjectCache) Inspect(path string, data []byte) (ObjectReport, error) {
	return c.InspectDigest(path, data, sha256.Sum256(data))
}

// InspectDigest is Inspect for data whose sha256 is sum: the object is
// parsed only when the cache does not know it.
func (c *ObjectCache) InspectDigest(path string, data []byte, sum [sha256.Size]byte) (ObjectReport, error) {
	if r, ok := c.lookup(path, sum); ok {
		return r, nil
	}
	o, err := ParseWithDigest(path, data, sum)
	if err != nil {
		return ObjectReport{Path: path, Size: int64(len(data)), SHA256: hexSum(sum)}, err
	}
	return c.InspectParsed(o)
}

// InspectParsed is o.Inspect through the cache, for a caller that needs
// the parsed object anyway (offline BTF checks, the verifier).
func (c *ObjectCache) InspectParsed(o *Object) (ObjectReport, error) {
	if r, ok := c.lookup(o.Path, o.SHA256); ok {
		return r, nil
	}
	rep, err := o.Inspect()
	if err != nil || c == nil {
		return rep, err
	}
	keep := cloneReport(&rep)
	c.mu.Lock()
	if len(c.m) < maxCachedObjects {
		c.m[o.SHA256] = &keep
	}
	c.mu.Unlock()
	return rep, nil
}

func (c *ObjectCache) lookup(path string, key [sha256.Size]byte) (ObjectReport, bool) {
	if c == nil {
		return ObjectReport{}, false
	}
	c.mu.Lock()
	r, ok := c.m[key]
	c.mu.Unlock()
	if !ok {
		return ObjectReport{}, false
	}
	out := cloneReport(r)
	out.Path = path
	return out, true
}

func cloneReport(r *ObjectReport) ObjectReport {
	out := *r
	out.Programs = slices.Clone(r.Programs)
	for i := range out.Programs {
		p := &out.Programs[i]
		p.Helpers = slices.Clone(p.Helpers)
		p.Kfuncs = slices.Clone(p.Kfuncs)
		p.Calls = slices.Clone(p.Calls)
		p.TailCalls = slices.Clone(p.TailCalls)
		p.Maps = slices.Clone(p.Maps)
		p.ISA = slices.Clone(p.ISA)
	}
	out.Maps = slices.Clone(r.Maps)
	out.DataSections = slices.Clone(r.DataSections)
	return out
}
