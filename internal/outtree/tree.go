package outtree

import (
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/ebpfrepo/ebpfrepo/internal/buildcache"
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

// Spare is the spare tree beside an output and the manifest it was
// recorded with.
type Spare struct {
	Manifest *buildcache.TreeManifest
	dir      string
	id       string // the tree's identity when Peek read it
}

func manifestPath(out, id string) string {
	return filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".tree-"+id+".json")
}

func sparePath(out string) string {
	return filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+spareInfix)
}

// Peek reads the manifest of the spare tree of out without changing
// anything; nil if there is no usable spare.
func Peek(out string) *Spare {
	spare := sparePath(out)
	if _, err := os.Lstat(spare); err != nil {
		return nil
	}
	id, ok := treeID(spare)
	if !ok {
		return nil
	}
	m, err := buildcache.ReadManifest(manifestPath(out, id))
	if err != nil || m.Files == nil || !ValidManifest(m.Files) {
		return nil
	}
	return &Spare{Manifest: m, dir: spare, id: id}
}

// Adopt makes the spare tree, whose manifest Peek read, the build
// directory tmp; with sp nil (or if that fails) it removes the spare and
// returns nil.
func Adopt(out, tmp string, sp *Spare) *buildcache.TreeManifest {
	spare := sparePath(out)
	if sp != nil {
		if id, ok := treeID(spare); ok && id == sp.id {
			os.Remove(manifestPath(out, id)) // the tree is about to change: the manifest no longer holds
			if os.Remove(tmp) == nil && os.Rename(spare, tmp) == nil {
				return sp.Manifest
			}
			os.MkdirAll(tmp, 0o755)
		}
	}
	if _, err := os.Lstat(spare); err == nil {
		RemoveAll(spare)
	}
	return nil
}

// ValidManifest reports whether every path of a manifest is a clean
// relative path inside targets/, l3afd/ or metadata/: a damaged or
// forged manifest must never make a build touch anything else.
func ValidManifest(files map[string]string) bool {
	for rel := range files {
		if !layout.InTUFTree(rel) || path.Clean(rel) != rel ||
			strings.Contains(rel, "\\") || strings.Contains(rel, "/../") || strings.HasSuffix(rel, "/..") {
			return false
		}
	}
	return true
}

// CleanCatalogue removes what the catalogue wrote into a reused tree:
// every top-level entry but metadata/, targets/ and l3afd/, and but the
// catalogue's packages/ and assets/ when pages is set (the manifest
// lists the pages there, which site.WriteWith keeps or replaces).
func CleanCatalogue(dir string, pages bool) {
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
		RemoveAll(filepath.Join(dir, e.Name()))
	}
}

// Swap puts tmp in the place of out and keeps the previous out as the
// spare, then records tmp's manifest. If the second rename fails the old
// tree is put back.
func Swap(tmp, out string, manifest *buildcache.TreeManifest) error {
	spare := sparePath(out)
	if _, err := os.Lstat(spare); err == nil {
		RemoveAll(spare)
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
		if buildcache.WriteManifest(manifestPath(out, id), manifest) == nil {
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

// Has reports whether the spare tree holds rel (slash-separated) as a
// regular file: what a build reuses from it must be there.
func (s *Spare) Has(rel string) bool {
	fi, err := os.Lstat(filepath.Join(s.dir, filepath.FromSlash(rel)))
	return err == nil && fi.Mode().IsRegular()
}
