package buildcache

import (
	"bufio"
	"encoding/json"
	"errors"

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
			c.Entries, err = readJSONMap(dec, func(dec *json.Decoder) (*PackageEntry, error) {
				var e *PackageEntry
				return e, dec.Decode(&e)
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
