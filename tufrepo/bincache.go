package tufrepo

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"sync"
	"time"

	"github.com/ebpfrepo/ebpfrepo/internal/atomicfile"
	"github.com/secure-systems-lab/go-securesystemslib/cjson"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// The bin cache (Options.BinCache) remembers, for each bin, the sha256
// of the bytes Load last verified and the summary it took of them: a
// later Load that reads the same bytes, under the same delegation, takes
// the summary without parsing and verifying the bin again. Bytes that
// differ in one bit, or a delegation that changed (a rotated bins key),
// miss, and the bin is verified as without the cache. It is only a
// cache: a missing or damaged file costs the verification it saves.

// maxBinCache bounds the cache file read (65,536 bins of ~200 bytes).
const maxBinCache = 32 << 20

type binCacheFile struct {
	Trust string                   `json:"trust"` // binTrust of the delegation the entries were verified under
	Bins  map[string]binCacheEntry `json:"bins"`
}

type binCacheEntry struct {
	SHA256  string `json:"sha256"`
	Version int64  `json:"version"`
	Expires int64  `json:"expires"` // Unix seconds
	Digest  string `json:"digest"`  // binDigest of its targets
	Plain   bool   `json:"plain,omitempty"`
}

type binCache struct {
	path    string
	trust   string
	mu      sync.Mutex
	entries map[string]binCacheEntry
	changed bool
}

// binTrust digests the delegation bins are verified against: the
// delegator's delegations, canonically encoded (keys, threshold, roles).
func binTrust(delegator *metadata.Metadata[metadata.TargetsType]) string {
	d := delegator.Signed.Delegations
	if d == nil {
		return ""
	}
	b, err := cjson.EncodeCanonical(d)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func openBinCache(path, trust string) *binCache {
	c := &binCache{path: path, trust: trust, entries: map[string]binCacheEntry{}}
	if path == "" || trust == "" {
		return c
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() > maxBinCache {
		return c
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return c
	}
	var f binCacheFile
	if json.Unmarshal(raw, &f) == nil && f.Trust == trust && f.Bins != nil {
		c.entries = f.Bins
	}
	return c
}

// lookup returns the summary of bin name for bytes raw of version want,
// when the cache verified exactly these bytes before.
func (c *binCache) lookup(name string, raw []byte, want int64) (binMeta, bool) {
	if c.path == "" || c.trust == "" {
		return binMeta{}, false
	}
	sum := sha256.Sum256(raw)
	c.mu.Lock()
	e, ok := c.entries[name]
	c.mu.Unlock()
	if !ok || e.SHA256 != hex.EncodeToString(sum[:]) || e.Version != want {
		return binMeta{}, false
	}
	d, err := hex.DecodeString(e.Digest)
	if err != nil || len(d) != sha256.Size {
		return binMeta{}, false
	}
	b := binMeta{raw: raw, sum: sum, size: int64(len(raw)), version: e.Version, expires: time.Unix(e.Expires, 0).UTC(), plain: e.Plain}
	copy(b.digest[:], d)
	return b, true
}

// remember records the summary of bytes raw that Load just verified.
func (c *binCache) remember(name string, raw []byte, b binMeta) {
	if c.path == "" || c.trust == "" {
		return
	}
	sum := sha256.Sum256(raw)
	c.mu.Lock()
	c.entries[name] = binCacheEntry{SHA256: hex.EncodeToString(sum[:]), Version: b.version, Expires: b.expires.Unix(),
		Digest: hex.EncodeToString(b.digest[:]), Plain: b.plain}
	c.changed = true
	c.mu.Unlock()
}

// save writes the cache when Load added to it, keeping only the current
// bins; a failure only costs time.
func (c *binCache) save(current []string) {
	if !c.changed || c.path == "" {
		return
	}
	keep := make(map[string]binCacheEntry, len(current))
	for _, n := range current {
		if e, ok := c.entries[n]; ok {
			keep[n] = e
		}
	}
	data, err := json.Marshal(binCacheFile{Trust: c.trust, Bins: keep})
	if err != nil {
		return
	}
	_ = atomicfile.WriteFile(c.path, data, 0o644)
}
