package repo

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/ebpfrepo/ebpfrepo/layout"
)

// The output is double-buffered. After a swap the previous output is kept
// beside the new one as .<out>.spare, with a manifest of the files it
// holds under targets/, l3afd/ and metadata/ (.<out>.tree-<dev>-<inode>.json,
// keyed by the directory's identity so a stale manifest is never applied
// to another tree). The next build renames the spare to its temporary
// directory and only adds, replaces and removes what differs, instead of
// creating every directory and link again; the live output is never
// touched until the swap. Without a usable spare (first build, a crash,
// a system without inodes) the build starts from an empty directory.
const spareInfix = ".spare"

// treeManifest lists the files of an output tree outside the catalogue:
// path (slash-separated, relative) → sha256 of the content.
type treeManifest struct {
	Files map[string]string `json:"files"`
	// Catalogue maps each package to the fingerprint of its catalogue
	// pages in the tree (site.WriteResult.Fingerprints), so that the next
	// build renders only the packages that changed.
	Catalogue map[string]string `json:"catalogue,omitempty"`

	id string // the tree's identity, when read by peekSpare
}

func manifestPath(out, id string) string {
	return filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".tree-"+id+".json")
}

func sparePath(out string) string {
	return filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+spareInfix)
}

// reuseSpare turns the spare tree of out, if it has a valid manifest, into
// the build directory tmp. It returns the manifest, or nil when the build
// must start from an empty tmp.
func reuseSpare(out, tmp string) *treeManifest {
	return adoptSpare(out, tmp, peekSpare(out))
}

// peekSpare reads the manifest of the spare tree of out without changing
// anything; nil if there is no usable spare.
func peekSpare(out string) *treeManifest {
	spare := sparePath(out)
	if _, err := os.Lstat(spare); err != nil {
		return nil
	}
	id, ok := treeID(spare)
	if !ok {
		return nil
	}
	m, err := readManifest(manifestPath(out, id))
	if err != nil || m.Files == nil || !validManifest(m.Files) {
		return nil
	}
	m.id = id
	return m
}

// adoptSpare makes the spare tree, whose manifest peekSpare read, the
// build directory tmp; with m nil (or if that fails) it removes the spare
// and returns nil.
func adoptSpare(out, tmp string, m *treeManifest) *treeManifest {
	spare := sparePath(out)
	if m != nil {
		if id, ok := treeID(spare); ok && id == m.id {
			os.Remove(manifestPath(out, id)) // the tree is about to change: the manifest no longer holds
			if os.Remove(tmp) == nil && os.Rename(spare, tmp) == nil {
				return m
			}
			os.MkdirAll(tmp, 0o755)
		}
	}
	if _, err := os.Lstat(spare); err == nil {
		removeAllParallel(spare)
	}
	return nil
}

// validManifest reports whether every path of a manifest is a clean
// relative path inside targets/, l3afd/ or metadata/: a damaged or
// forged manifest must never make a build touch anything else.
func validManifest(files map[string]string) bool {
	for rel := range files {
		if !layout.InTUFTree(rel) || path.Clean(rel) != rel ||
			strings.Contains(rel, "\\") || strings.Contains(rel, "/../") || strings.HasSuffix(rel, "/..") {
			return false
		}
	}
	return true
}

// cleanCatalogue removes what the catalogue wrote into a reused tree:
// every top-level entry but metadata/, targets/ and l3afd/, and but the
// catalogue's packages/ and assets/ when pages is set (the manifest
// lists the pages there, which site.WriteWith keeps or replaces).
func cleanCatalogue(dir string, pages bool) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		switch e.Name() {
		case layout.MetadataDir, layout.TargetsDir, layout.L3afdDir:
			continue
		case layout.PagesDir, layout.AssetsDir:
			if pages && e.IsDir() {
				continue
			}
		}
		removeAllParallel(filepath.Join(dir, e.Name()))
	}
}

// swapTree puts tmp in the place of out and keeps the previous out as the
// spare, then records tmp's manifest. If the second rename fails the old
// tree is put back.
func swapTree(tmp, out string, manifest *treeManifest) error {
	spare := sparePath(out)
	if _, err := os.Lstat(spare); err == nil {
		removeAllParallel(spare)
	}
	hadOld := false
	if _, err := os.Lstat(out); err == nil {
		if err := os.Rename(out, spare); err != nil {
			return err
		}
		hadOld = true
	}
	if err := os.Rename(tmp, out); err != nil {
		if hadOld {
			os.Rename(spare, out)
		}
		return err
	}
	// Manifests: the new tree's, the spare's (written when it was built);
	// any other is stale.
	keep := map[string]bool{}
	if id, ok := treeID(out); ok {
		if writeCacheFileFunc(manifestPath(out, id), func(w *bufio.Writer) error { return writeManifest(w, manifest) }) == nil {
			keep[manifestPath(out, id)] = true
		}
	}
	if id, ok := treeID(spare); ok {
		keep[manifestPath(out, id)] = true
	}
	old, _ := filepath.Glob(filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".tree-*.json"))
	for _, p := range old {
		if !keep[p] {
			os.Remove(p)
		}
	}
	return nil
}

// treeWriter writes the files of an output tree under dir, keeping those
// the previous manifest (old) lists with the same content, and records
// the new manifest. Safe for concurrent use.
type treeWriter struct {
	dir  string
	old  map[string]string // read-only
	dirs dirMaker

	mu    sync.Mutex
	files map[string]string
	kept  int
}

func newTreeWriter(dir string, old map[string]string) *treeWriter {
	w := &treeWriter{dir: dir, old: old, files: map[string]string{}}
	if w.old == nil {
		w.old = map[string]string{}
	}
	w.dirs.made.Store(dir, true)
	return w
}

// claim records rel with content sha and reports whether the file already
// in the tree can stay. timestamp.json is always rewritten: ebpfrepo
// timestamp replaces it in place.
func (w *treeWriter) claim(rel, sha string) bool {
	w.mu.Lock()
	w.files[rel] = sha
	w.mu.Unlock()
	prev, ok := w.old[rel]
	if ok && prev == sha && rel != layout.Timestamp {
		if _, err := os.Lstat(w.abs(rel)); err == nil {
			w.mu.Lock()
			w.kept++
			w.mu.Unlock()
			return true
		}
	}
	if ok {
		os.Remove(w.abs(rel))
	}
	return false
}

func (w *treeWriter) abs(rel string) string { return filepath.Join(w.dir, filepath.FromSlash(rel)) }

// write writes generated bytes at rel.
func (w *treeWriter) write(rel string, data []byte) (string, error) {
	sum := sha256.Sum256(data)
	sha := hex.EncodeToString(sum[:])
	if w.claim(rel, sha) {
		return sha, nil
	}
	p := w.abs(rel)
	if err := w.dirs.mkdirAll(filepath.Dir(p)); err != nil {
		return sha, err
	}
	return sha, os.WriteFile(p, data, 0o644)
}

// place puts the artifact l links at rel.
func (w *treeWriter) place(rel, sha string, l *linker) error {
	if w.claim(rel, sha) {
		return nil
	}
	return l.place(w.abs(rel))
}

// forgetDirs drops the record of the directories made (tens of
// thousands of paths at scale) once the artifacts are placed; a later
// mkdirAll of a known directory only costs one mkdir call.
func (w *treeWriter) forgetDirs() {
	w.dirs.made.Clear()
	w.dirs.made.Store(w.dir, true)
}

// finish removes the files of the old tree that the new one does not
// have, and the directories that become empty.
func (w *treeWriter) finish() {
	var dirs []string
	seen := map[string]bool{}
	for rel := range w.old {
		if _, ok := w.files[rel]; ok {
			continue
		}
		os.Remove(w.abs(rel))
		for d := filepath.Dir(w.abs(rel)); d != w.dir && strings.HasPrefix(d, w.dir) && !seen[d]; d = filepath.Dir(d) {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	// Deepest first; a directory that still holds something stays.
	slices.SortFunc(dirs, func(a, b string) int { return len(b) - len(a) })
	for _, d := range dirs {
		os.Remove(d)
	}
}
