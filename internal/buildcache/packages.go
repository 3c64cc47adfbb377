package buildcache

import (
	"bufio"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"unique"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/internal/buildx"
)

// Packages remembers, for each package, what a build derived from its
// versions: the digest and length of its index file, its summary line
// and its versions with only what the catalogue's home page reads of the
// featured version's description (site.HomeDescription). An entry is
// keyed by a digest of every input of the package (the caller computes
// it), so a rebuild neither decodes
// the descriptions of an unchanged package nor writes its index file
// again: it is only used when the reused output tree still holds that
// index file and the package's catalogue pages. It lives in
// REPO/.cache/packages.json and is only a cache.
type Packages struct {
	path    string
	Version string                   `json:"version"`
	Entries map[string]*PackageEntry `json:"packages"`
}

// PackageEntry is what Packages remembers of one package.
type PackageEntry struct {
	Key      string               `json:"key"`
	IndexSHA string               `json:"index_sha256"`
	IndexLen int64                `json:"index_length"`
	Summary  index.SummaryPackage `json:"summary"`
	Package  *index.Package       `json:"package"`
	Warnings int                  `json:"warnings"`
}

// LoadPackages reads the package cache at path; a missing, damaged or
// other program's cache is empty.
func LoadPackages(path string) *Packages {
	c := &Packages{path: path, Version: buildx.ProgramHash()}
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
			var sh sharer
			c.Entries, err = readJSONMap(dec, func(dec *json.Decoder) (*PackageEntry, error) {
				var e *PackageEntry
				err := dec.Decode(&e)
				sh.entry(e)
				return e, err
			})
		default:
			err = skipJSON(dec)
		}
		return err
	})
	if err != nil || version != c.Version || c.Entries == nil {
		c.Entries = map[string]*PackageEntry{}
	}
	return c
}

// Save writes the cache (atomically, without fsync).
func (c *Packages) Save() error {
	return writeFileFunc(c.path, func(w *bufio.Writer) error {
		w.WriteString(`{"version":`)
		if err := writeJSONString(w, c.Version); err != nil {
			return err
		}
		w.WriteString(`,"packages":`)
		if err := writeJSONMap(w, c.Entries, func(e *PackageEntry) ([]byte, error) { return json.Marshal(e) }); err != nil {
			return err
		}
		_, err := w.WriteString("}")
		return err
	})
}

// sharer makes the decoded entries hold no more than they need and share
// what their versions repeat: the
// digest of an artifact every platform ships, platform names, and signing
// records, which are the same for every version of a package and often
// of a repository (each decoded anew, they were about 2 MB of the cache's
// 20 MB at 10,000 versions).
type sharer struct {
	sigs []*index.Signatures
}

func (sh *sharer) entry(e *PackageEntry) {
	if e == nil || e.Package == nil {
		return
	}
	// The decoder grows slices by doubling: an exact copy gives back the
	// spare capacity (a version is 520 bytes; 10 of them took 16).
	e.Package.Versions = slices.Clone(e.Package.Versions)
	for i := range e.Package.Versions {
		v := &e.Package.Versions[i]
		for j := range v.Artifacts {
			a := &v.Artifacts[j]
			a.Platform, a.SHA256 = unique.Make(a.Platform).Value(), unique.Make(a.SHA256).Value()
		}
		v.Signatures = sh.sig(v.Signatures)
	}
}

// sig returns a record equal to s that an earlier version holds, if any
// (records are read, never changed in place); a repository has a few
// distinct ones, so few are kept.
func (sh *sharer) sig(s *index.Signatures) *index.Signatures {
	if s == nil {
		return nil
	}
	for _, o := range sh.sigs {
		if reflect.DeepEqual(o, s) {
			return o
		}
	}
	if len(sh.sigs) < 16 {
		sh.sigs = append(sh.sigs, s)
	}
	return s
}
