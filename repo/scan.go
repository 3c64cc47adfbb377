package repo

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

// item is one name@version directory under packages/.
type item struct {
	name, version string
	rel           string // artifact path relative to packages/, slash-separated ("" if none)
	root          string // the packages/ directory (one string every item shares)
	added         time.Time
	recordAdded   bool            // no added file: the build records its time
	problem       *pkgfmt.Problem // a layout problem found while scanning
	bundle        string          // packages/<name>/<version>/<artifact>.sigstore.json, if there is one

	// Filled by the keyless stage, for a keyless publisher's version.
	keyless   *index.KeylessSignature
	bundleSHA string
	bundleLen int64

	// Filled by validation.
	sha     string
	length  int64
	desc    *pkgfmt.Description // a stub while parked (see setDesc)
	parked  bool                // the description waits in the description cache
	descSum [32]byte            // sha256 of its JSON there
	cached  bool
	lazy    bool // sha256 known from the stat cache, description not taken yet
	read    bool // sha256 of its bytes, read in this build
	reused  bool // its package is unchanged: built from the package cache
	// warnings counts the warnings of its description.
	warnings int
}

func (it *item) label() string { return it.name + "@" + it.version }

// file is the path of the artifact ("" if none). It is made when needed,
// not held: 10,000 paths under packages/ were 1.1 MB of a rebuild's peak.
func (it *item) file() string {
	if it.rel == "" {
		return ""
	}
	return filepath.Join(it.root, filepath.FromSlash(it.rel))
}

// artifact is the artifact's file name ("." if none).
func (it *item) artifact() string { return path.Base(it.rel) }

// scan lists packages/<name>/<version>/<artifact>, sorted by name and
// directory name, and removes on the way what interrupted adds left
// (isLeftover): one listing of every directory, not two. The packages'
// directories are listed by a few workers: with the file system's
// caches cold (after a CI restore, or a cold build of 100,000 versions)
// each listing and added file is a read of the disk, and one after the
// other they took 18 s at 100,000 versions.
func (r *Repo) scan() ([]*item, error) {
	root := r.paths().Packages()
	names, err := os.ReadDir(root)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	names = slices.DeleteFunc(names, func(n os.DirEntry) bool { return strings.HasPrefix(n.Name(), ".") || !n.IsDir() })
	perPkg := make([][]*item, len(names))
	errs := make([]error, len(names))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(scanWorkers, len(names)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(names); i = int(next.Add(1) - 1) {
				perPkg[i], errs[i] = scanPackage(root, names[i].Name())
			}
		}()
	}
	wg.Wait()
	total := 0
	for i, its := range perPkg {
		if errs[i] != nil {
			return nil, errs[i]
		}
		total += len(its)
	}
	items := make([]*item, 0, total)
	for _, its := range perPkg {
		items = append(items, its...)
	}
	return items, nil
}

// scanWorkers is how many package directories scan lists at once.
const scanWorkers = 8

// scanPackage lists the version directories of package name (see scan).
func scanPackage(root, name string) ([]*item, error) {
	var items []*item
	vers, err := os.ReadDir(filepath.Join(root, name))
	if err != nil {
		return nil, err
	}
	for _, v := range vers {
		if isLeftover(v.Name(), stagingInfix) {
			os.RemoveAll(filepath.Join(root, name, v.Name()))
		}
		if strings.HasPrefix(v.Name(), ".") || !v.IsDir() {
			continue
		}
		it := &item{name: name, version: v.Name()}
		dir := filepath.Join(root, name, v.Name())
		files, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		var arts []string
		var addedBad string
		regular := map[string]bool{}
		for _, f := range files {
			switch {
			case isLeftover(f.Name(), tmpInfix):
				os.Remove(filepath.Join(dir, f.Name()))
			case strings.HasPrefix(f.Name(), "."):
			case strings.HasSuffix(f.Name(), layout.BundleSuffix) && f.Type().IsRegular():
				it.bundle = filepath.Join(dir, f.Name())
			case f.Name() == layout.AddedFile:
				if data, err := os.ReadFile(filepath.Join(dir, layout.AddedFile)); err == nil {
					if it.added, err = time.Parse(time.RFC3339, strings.TrimSpace(string(data))); err != nil {
						addedBad = fmt.Sprintf("%.40q", strings.TrimSpace(string(data)))
					}
				}
			default:
				arts = append(arts, f.Name())
				regular[f.Name()] = f.Type().IsRegular()
			}
		}
		switch {
		case len(arts) == 1 && !regular[arts[0]]:
			it.problem = &pkgfmt.Problem{Severity: pkgfmt.SeverityError, File: filepath.Join(layout.PackagesDir, name, v.Name(), arts[0]),
				Code: "repo.not-regular", Message: "the artifact is not a regular file (a link or special file): replace it with the file itself (ebpfrepo add)"}
		case len(arts) == 1:
			it.rel = name + "/" + v.Name() + "/" + arts[0]
			it.root = root
		case len(arts) == 0:
			it.problem = &pkgfmt.Problem{Severity: pkgfmt.SeverityError, File: filepath.Join(layout.PackagesDir, name, v.Name()),
				Code: "repo.no-artifact", Message: "the version directory holds no artifact: add the package with ebpfrepo add or remove the directory"}
		default:
			sort.Strings(arts)
			it.problem = &pkgfmt.Problem{Severity: pkgfmt.SeverityError, File: filepath.Join(layout.PackagesDir, name, v.Name()),
				Code: "repo.several-artifacts", Message: fmt.Sprintf("the version directory holds %d files (%s): keep only the artifact", len(arts), strings.Join(arts, ", "))}
		}
		if addedBad != "" && it.problem == nil {
			it.problem = &pkgfmt.Problem{Severity: pkgfmt.SeverityError, File: filepath.Join(layout.PackagesDir, name, v.Name(), layout.AddedFile),
				Code: "repo.bad-added", Message: fmt.Sprintf("%s is not a date and time as RFC 3339 writes it (2026-01-02T15:04:05Z): correct it, or delete the file and the build records the current time", addedBad)}
		}
		items = append(items, it)
	}
	return items, nil
}

// yankEntry is one [[yank]] of yanked.toml.
type yankEntry struct {
	Name    string    `toml:"name"`
	Version string    `toml:"version"`
	Reason  string    `toml:"reason"`
	At      time.Time `toml:"at"`
}

type yankFile struct {
	Yank []yankEntry `toml:"yank"`
}

func (r *Repo) loadYanks() (*yankFile, error) {
	p := r.paths().Yanked()
	var y yankFile
	data, err := os.ReadFile(p)
	if os.IsNotExist(err) {
		return &y, nil
	}
	if err != nil {
		return nil, err
	}
	if _, err := toml.Decode(string(data), &y); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return &y, nil
}

func (y *yankFile) lookup(name, version string) *index.Yank {
	for _, e := range y.Yank {
		if e.Name == name && e.Version == version {
			return &index.Yank{Reason: e.Reason, At: e.At}
		}
	}
	return nil
}
