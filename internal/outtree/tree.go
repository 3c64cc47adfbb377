package outtree

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ebpfrepo/ebpfrepo/internal/atomicfile"
	"github.com/ebpfrepo/ebpfrepo/internal/buildcache"
	"github.com/ebpfrepo/ebpfrepo/layout"
)

// The output directory is swapped, never rewritten. Beside it, a state
// directory .<out>.d/ holds what the swap needs:
//
//	public/                          the live tree, what readers see
//	.public.d/t-9c1b…                the spare: the tree before it
//	.public.d/<dev>-<inode>.json     each tree's manifest
//	.public.d/name-t-9c1b….json      the spare's, by name (for restored caches)
//	.public.d/build-…                a build in progress
//
// A build renames the spare to its build directory and only adds,
// replaces and removes what differs; the live tree is never touched. The
// swap exchanges the build directory and the output in one
// renameat2(RENAME_EXCHANGE), so a reader sees the old tree or the new
// one, never neither; the old tree, now at the build directory's name, is
// renamed to be the spare. The manifest of a tree lists the files it
// holds under targets/, l3afd/ and metadata/, keyed by the directory's
// identity (which renames keep) so a stale manifest is never applied to
// another tree. Without a usable spare (first build, a crash, a system
// without inodes) the build starts from an empty directory.

// StepHook, if set, is called at each step of Swap with the step's name
// ("manifest", "swapped", "spared"; "moved" where there is no exchange): tests stop the process
// there to check that every step leaves a whole output.
var StepHook func(step string)

func step(name string) {
	if StepHook != nil {
		StepHook(name)
	}
}

// BuildInfix is in the name of a temporary output.
const BuildInfix = "build-"

const treePrefix = "t-"

// StateDir is the directory beside out that holds its trees.
func StateDir(out string) string {
	return filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".d")
}

func manifestPath(out, id string) string { return filepath.Join(StateDir(out), id+".json") }

// spares lists the trees of the state directory: the outputs before the
// live one.
func spares(out string) []string {
	ts, _ := filepath.Glob(filepath.Join(StateDir(out), treePrefix+"*"))
	return ts
}

// Prepare makes the temporary output directory in the state directory of
// out, after removing what interrupted builds and earlier layouts left:
// build directories, a half-made link, every tree but the live one and
// one spare with a manifest, stale manifests.
func Prepare(out string) (string, error) { return PrepareKeeping(out, nil) }

// PrepareKeeping is Prepare for a caller that has already peeked the
// spare to keep (Peek or CloneLive): its manifest is not read again.
func PrepareKeeping(out string, keep *Spare) (string, error) {
	parent, base := filepath.Dir(out), filepath.Base(out)
	if err := os.MkdirAll(StateDir(out), 0o755); err != nil {
		return "", err
	}
	// The layout before the state directory kept the live tree's
	// manifest beside it: carried over, the first build after an upgrade
	// still keeps what leaves the metadata through the grace period.
	if id, ok := treeID(out); ok {
		legacy := filepath.Join(parent, "."+base+".tree-"+id+".json")
		if _, err := os.Stat(legacy); err == nil {
			os.Rename(legacy, manifestPath(out, id))
		}
	}
	for _, pat := range []string{"." + base + ".build-*", "." + base + ".old-*", "." + base + ".tree-*.json", "." + base + ".spare"} {
		stale, _ := filepath.Glob(filepath.Join(parent, pat))
		for _, p := range stale {
			RemoveAll(p)
		}
	}
	stale, _ := filepath.Glob(filepath.Join(StateDir(out), BuildInfix+"*"))
	checks, _ := filepath.Glob(filepath.Join(StateDir(out), "check-*"))
	stale = append(stale, checks...)
	sp := keep
	if sp == nil {
		sp = Peek(out)
	}
	if sp != nil {
		for _, t := range spares(out) {
			if t != sp.dir {
				stale = append(stale, t)
			}
		}
	} else {
		stale = append(stale, spares(out)...)
	}
	for _, p := range stale {
		if _, err := os.Lstat(p); err == nil {
			RemoveAll(p)
		}
	}
	removeStaleManifests(out)
	tmp, err := os.MkdirTemp(StateDir(out), BuildInfix)
	if err != nil {
		return "", err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	return tmp, nil
}

// Spare is the spare tree beside an output and the manifest it was
// recorded with.
type Spare struct {
	Manifest *buildcache.TreeManifest
	dir      string
	id       string            // the tree's identity when Peek read it
	verified map[string]string // what Intact read back, path → sha256
}

// Peek reads the manifest of the spare tree of out without changing
// anything; nil if there is no usable spare.
//
// A spare whose identity changed (the state directory was restored from
// a CI cache: new inodes) is found by its name instead: the same trust as
// the live tree's live.json record, and the build's check reads back
// every target of it before anything is published.
func Peek(out string) *Spare {
	for _, dir := range spares(out) {
		id, ok := treeID(dir)
		if !ok {
			continue
		}
		if m := readManifest(out, id); m != nil {
			return &Spare{Manifest: m, dir: dir, id: id}
		}
		if m := readManifestFile(namedManifestPath(dir)); m != nil {
			return &Spare{Manifest: m, dir: dir, id: id}
		}
	}
	return nil
}

func readManifest(out, id string) *buildcache.TreeManifest {
	return readManifestFile(manifestPath(out, id))
}

func readManifestFile(path string) *buildcache.TreeManifest {
	m, err := buildcache.ReadManifest(path)
	if err != nil || m.Files == nil || !ValidManifest(m.Files) || !ValidManifest(m.Retired) {
		return nil
	}
	return m
}

// Live is the tree readers see now, and its manifest.
type Live struct {
	Dir      string
	Manifest *buildcache.TreeManifest
}

// LiveTree returns the live tree of out and its manifest; nil if out does
// not exist or has no usable manifest.
//
// When the manifest keyed by the tree's identity is gone — the output and
// its state directory were restored from a CI cache, which gives new
// inodes — the copy Swap keeps in live.json stands in: Retain hashes every
// file it keeps, so a stale record can only leave files out, never
// publish wrong bytes.
func LiveTree(out string) *Live {
	return liveTree(out, readManifestFile)
}

// ScanLive is LiveTree for a reader that needs each file of the live
// tree once (Retain): the manifest's files are handed to each as they
// are read, not held (67,000 paths at 10,000 versions), and the Live
// returned has no Files. When ScanLive returns nil, what each was handed
// is not the live tree's: the manifest proved unusable part way.
func ScanLive(out string, each func(rel, sha string)) *Live {
	return liveTree(out, func(path string) *buildcache.TreeManifest {
		m, err := buildcache.ScanManifest(path, func(rel, sha string) error {
			if !validPath(rel) {
				return errors.New("invalid path")
			}
			each(rel, sha)
			return nil
		})
		if err != nil || !ValidManifest(m.Retired) {
			return nil
		}
		return m
	})
}

// liveTree finds the live tree's manifest (by the tree's identity, else
// live.json) and reads it with read.
func liveTree(out string, read func(path string) *buildcache.TreeManifest) *Live {
	if _, err := os.Lstat(out); err != nil {
		return nil
	}
	var m *buildcache.TreeManifest
	if id, ok := treeID(out); ok {
		m = read(manifestPath(out, id))
	}
	if m == nil {
		m = read(manifestPath(out, "live"))
	}
	if m == nil {
		return nil
	}
	return &Live{Dir: out, Manifest: m}
}

// CloneLive makes a spare tree from the live one when there is no spare
// (the first build after a cold build, whose swap had no earlier tree to
// keep): every directory made again, every file hard-linked, and the live
// tree's manifest recorded for the clone. Nothing that builds into a
// spare rewrites a file in place (Writer and the catalogue unlink before
// writing), so sharing inodes with the live tree is safe. It costs a
// mkdir per directory and a link per file, where a build without a spare
// renders and writes everything. nil when there is no live tree with a
// manifest, or the clone fails (no hard links here).
func CloneLive(out string) *Spare {
	live := LiveTree(out)
	if live == nil || live.Manifest.Catalogue == nil {
		return nil
	}
	dir := filepath.Join(StateDir(out), treePrefix+randomID())
	if err := linkTree(out, dir); err != nil {
		RemoveAll(dir)
		return nil
	}
	id, ok := treeID(dir)
	if !ok || buildcache.WriteManifest(manifestPath(out, id), live.Manifest) != nil {
		RemoveAll(dir)
		return nil
	}
	return &Spare{Manifest: live.Manifest, dir: dir, id: id}
}

// linkTree recreates the directories of src at dst and hard-links its
// regular files; anything else (a link, a device) fails it.
func linkTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.Mkdir(to, 0o755)
		case d.Type().IsRegular():
			return os.Link(p, to)
		}
		return fmt.Errorf("%s: not a regular file or directory", p)
	})
}

// Adopt makes the spare tree, whose manifest Peek read, the build
// directory tmp; with sp nil (or if that fails) it returns nil.
func Adopt(out, tmp string, sp *Spare) *buildcache.TreeManifest {
	if sp == nil {
		return nil
	}
	if id, ok := treeID(sp.dir); ok && id == sp.id {
		os.Remove(manifestPath(out, id)) // the tree is about to change: the manifest no longer holds
		os.Remove(namedManifestPath(sp.dir))
		if os.Remove(tmp) == nil && os.Rename(sp.dir, tmp) == nil {
			return sp.Manifest
		}
		os.MkdirAll(tmp, 0o755)
	}
	return nil
}

// ValidManifest reports whether every path of a manifest is a clean
// relative path inside targets/, l3afd/ or metadata/: a damaged or
// forged manifest must never make a build touch anything else.
func ValidManifest(files map[string]string) bool {
	for rel := range files {
		if !validPath(rel) {
			return false
		}
	}
	return true
}

// validPath reports whether a manifest may name rel: a clean path of the
// TUF tree.
func validPath(rel string) bool {
	return layout.InTUFTree(rel) && path.Clean(rel) == rel &&
		!strings.Contains(rel, "\\") && !strings.Contains(rel, "/../") && !strings.HasSuffix(rel, "/..")
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

// Swap makes tmp the live tree of out, each step leaving a whole output
// behind if the process dies there: tmp's manifest is recorded; tmp and
// out are exchanged in one step; the previous tree, now at tmp's name, is
// renamed to be the spare. Where the file system cannot exchange (not
// Linux, or NFS), out is renamed away and tmp renamed in: the one moment
// without an output, which Swap reports as Atomic false.
func Swap(tmp, out string, manifest *buildcache.TreeManifest) (atomic bool, err error) {
	prev := prevRecord(out) // the live tree's manifest: the spare's after the swap
	if id, ok := treeID(tmp); ok {
		if err := buildcache.WriteManifest(manifestPath(out, id), manifest); err != nil {
			return false, err
		}
	}
	if err := buildcache.WriteManifest(manifestPath(out, "live"), manifest); err != nil {
		return false, err
	}
	step("manifest")
	spare := filepath.Join(StateDir(out), treePrefix+randomID())
	if _, err := os.Lstat(out); errors.Is(err, os.ErrNotExist) {
		if err := os.Rename(tmp, out); err != nil {
			return false, err
		}
		step("swapped")
		return true, nil
	}
	atomic = true
	if err := exchange(tmp, out); err != nil {
		atomic = false
		if err := os.Rename(out, spare); err != nil {
			return false, err
		}
		step("moved")
		if err := os.Rename(tmp, out); err != nil {
			os.Rename(spare, out)
			return false, err
		}
	} else {
		step("swapped")
		if err := os.Rename(tmp, spare); err != nil {
			return true, nil // the new tree is live; the old one goes at the next Prepare
		}
	}
	step("spared")
	if prev != "" {
		// The spare's manifest under its name too: a restore (a CI cache)
		// gives every directory a new inode, and the name is what is left.
		os.Link(prev, namedManifestPath(spare))
	}
	removeStaleManifests(out)
	return atomic, nil
}

// prevRecord returns the file holding the live tree's manifest before a
// swap replaces it: the one keyed by its identity, or — for a restored
// tree — live.json, linked aside first since the swap rewrites it. ""
// when there is none.
func prevRecord(out string) string {
	id, ok := treeID(out)
	if !ok {
		return ""
	}
	if p := manifestPath(out, id); fileExists(p) {
		return p
	}
	aside := manifestPath(out, "live-prev")
	os.Remove(aside)
	if os.Link(manifestPath(out, "live"), aside) != nil {
		return ""
	}
	return aside
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// namedManifestPath is where a spare's manifest is kept under the spare's
// name (name-t-<random>.json beside it), for when its identity changed.
func namedManifestPath(spare string) string {
	return filepath.Join(filepath.Dir(spare), "name-"+filepath.Base(spare)+".json")
}

// removeStaleManifests keeps the manifests of the live tree and of the
// spares only.
func removeStaleManifests(out string) {
	keep := map[string]bool{manifestPath(out, "live"): true}
	if id, ok := treeID(out); ok {
		keep[manifestPath(out, id)] = true
	}
	for _, t := range spares(out) {
		if id, ok := treeID(t); ok {
			keep[manifestPath(out, id)] = true
		}
		keep[namedManifestPath(t)] = true
	}
	ms, _ := filepath.Glob(filepath.Join(StateDir(out), "*.json"))
	for _, p := range ms {
		if !keep[p] {
			os.Remove(p)
		}
	}
}

func randomID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Intact reports whether the spare tree holds rel as a regular file with
// content sha (read and hashed: for the small files a build reuses
// without writing them again).
func (s *Spare) Intact(rel, sha string) bool {
	if s.verified[rel] == sha && sha != "" {
		return true // read back already (plan asks again after a graft)
	}
	p := filepath.Join(s.dir, filepath.FromSlash(rel))
	if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() {
		return false
	}
	got, err := HashFile(p)
	if err != nil || got != sha {
		return false
	}
	if s.verified == nil {
		s.verified = map[string]string{}
	}
	s.verified[rel] = sha
	return true
}

// Verified lists the files Intact hashed and found as recorded (path →
// sha256): a build that adopts the spare need not read them again.
func (s *Spare) Verified() map[string]string {
	if s == nil {
		return nil
	}
	return s.verified
}

// Has reports whether the spare tree holds rel (slash-separated) as a
// regular file: what a build reuses from it must be there.
func (s *Spare) Has(rel string) bool {
	fi, err := os.Lstat(filepath.Join(s.dir, filepath.FromSlash(rel)))
	return err == nil && fi.Mode().IsRegular()
}

// AddToLive writes files (slash-separated paths relative to out → bytes)
// into the live tree in place, timestamp.json last so that it never
// names a file not yet there, and records them in the live tree's
// manifest. It is how ebpfrepo timestamp publishes what it re-signed
// without a build. Each file is replaced atomically.
func AddToLive(out string, files map[string][]byte) error {
	var names []string
	for rel := range files {
		if !ValidManifest(map[string]string{rel: ""}) {
			return fmt.Errorf("%s: not a path of the TUF tree", rel)
		}
		if rel != layout.Timestamp {
			names = append(names, rel)
		}
	}
	sort.Strings(names)
	if _, ok := files[layout.Timestamp]; ok {
		names = append(names, layout.Timestamp)
	}
	id, hasID := treeID(out)
	var m *buildcache.TreeManifest
	if hasID {
		m = readManifest(out, id)
	}
	for _, rel := range names {
		p := filepath.Join(out, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := atomicfile.WriteFile(p, files[rel], 0o644); err != nil {
			return err
		}
		if m != nil {
			sum := sha256.Sum256(files[rel])
			m.Files[rel] = hex.EncodeToString(sum[:])
			delete(m.Retired, rel)
		}
	}
	if m != nil {
		return buildcache.WriteManifest(manifestPath(out, id), m)
	}
	return nil
}
