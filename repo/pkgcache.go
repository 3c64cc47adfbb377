package repo

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/internal/buildx"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/site"
)

// pkgCache remembers, for each package, what a build derived from its
// versions: the digest and length of its index file, its summary line
// and its versions with only the description the catalogue's home page
// needs (that of index.Package.Featured). An entry is keyed by a digest
// of every input of the package (see pkgKey), so a rebuild neither decodes
// the descriptions of an unchanged package nor writes its index file
// again: it is only used when the reused output tree still holds that
// index file and the package's catalogue pages. It lives in
// REPO/.cache/packages.json and is only a cache.
type pkgCache struct {
	path    string
	Version string               `json:"version"`
	Entries map[string]*pkgEntry `json:"packages"`
}

type pkgEntry struct {
	Key      string               `json:"key"`
	IndexSHA string               `json:"index_sha256"`
	IndexLen int64                `json:"index_length"`
	Summary  index.SummaryPackage `json:"summary"`
	Package  *index.Package       `json:"package"`
	Warnings int                  `json:"warnings"`
}

func loadPkgCache(path string) *pkgCache {
	c := &pkgCache{path: path, Version: buildx.ProgramHash()}
	errStale := errors.New("another program's cache")
	version := ""
	err := readJSONObject(path, func(dec *json.Decoder, key string) error {
		var err error
		switch key {
		case "version":
			if version, err = readJSONStringValue(dec); err == nil && version != c.Version {
				err = errStale // its entries need not be decoded
			}
		case "packages":
			c.Entries, err = readJSONMap(dec, func(dec *json.Decoder) (*pkgEntry, error) {
				var e *pkgEntry
				return e, dec.Decode(&e)
			})
		default:
			err = skipJSON(dec)
		}
		return err
	})
	if err != nil || version != c.Version || c.Entries == nil {
		c.Entries = map[string]*pkgEntry{}
	}
	return c
}

func (c *pkgCache) save() error {
	return writeCacheFileFunc(c.path, func(w *bufio.Writer) error {
		w.WriteString(`{"version":`)
		if err := writeJSONString(w, c.Version); err != nil {
			return err
		}
		w.WriteString(`,"packages":`)
		if err := writeJSONMap(w, c.Entries, func(e *pkgEntry) ([]byte, error) { return json.Marshal(e) }); err != nil {
			return err
		}
		_, err := w.WriteString("}")
		return err
	})
}

// pkgKey digests every input of a package's index file and pages: the
// schema, whether the verifier ran, and for each version its place under
// packages/, its artifact's sha256 and length, its added date and its
// yank. The same key means the same index file.
func pkgKey(name string, its []*item, verify bool, yanks *yankFile) string {
	h := sha256.New()
	fmt.Fprintf(h, "schema %d verify %t name %q\n", index.Schema, verify, name)
	for _, it := range its {
		fmt.Fprintf(h, "%q %s %d %s", it.rel, it.sha, it.length, it.added.UTC().Format(time.RFC3339Nano))
		if y := yanks.lookup(it.name, it.version); y != nil {
			fmt.Fprintf(h, " yank %q %s", y.Reason, y.At.UTC().Format(time.RFC3339Nano))
		}
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// errReuseLost aborts a build that counted on a file of the reused tree
// that is gone; Build then runs again without the package cache.
var errReuseLost = errors.New("a file of the reused output tree is gone")

// cacheable reports whether a package's versions can be remembered in the
// package cache: every added date is recorded.
func cacheable(its []*item) bool {
	for _, it := range its {
		if it.added.IsZero() || it.recordAdded {
			return false
		}
	}
	return true
}

// unchangedPackages finds the packages whose every input is what the
// package cache remembers (pkgKey) and whose index file and catalogue
// pages the spare tree holds, and marks their items reused.
func (r *Repo) unchangedPackages(items []*item, spare *treeManifest, pc *pkgCache, yanks *yankFile) map[string]*pkgEntry {
	type cand struct {
		its []*item
		e   *pkgEntry
	}
	cands := map[string]cand{}
	digests := map[string]string{}
	for i := 0; i < len(items); {
		j, ok := i, true
		for ; j < len(items) && items[j].name == items[i].name; j++ {
			if it := items[j]; it.problem != nil || !it.lazy || it.added.IsZero() {
				ok = false
			}
		}
		name, its := items[i].name, items[i:j]
		i = j
		e := pc.Entries[name]
		if !ok || e == nil || e.Package == nil || e.Package.Name != name || len(e.Package.Versions) != len(its) {
			continue
		}
		rel := layout.Target(layout.PackageIndexTarget(name), e.IndexSHA)
		if spare.Files[rel] != e.IndexSHA || e.Key != pkgKey(name, its, r.Config.Verify, yanks) {
			continue
		}
		cands[name] = cand{its, e}
		digests[name] = e.IndexSHA
	}
	fps, err := site.Fingerprints(r.siteHead(), digests)
	if err != nil {
		return nil
	}
	reused := map[string]*pkgEntry{}
	for name, c := range cands {
		if fp := fps[name]; fp == "" || spare.Catalogue[name] != fp {
			continue
		}
		for _, it := range c.its {
			it.reused = true
		}
		reused[name] = c.e
	}
	return reused
}
