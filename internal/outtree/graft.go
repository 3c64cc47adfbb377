package outtree

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/ebpfrepo/ebpfrepo/layout"
)

// Graft is what a build takes from the live tree into the spare before
// adopting it: files of the TUF tree (slash-separated path → sha256, as
// the live manifest records them) and the catalogue pages of packages
// (name → the fingerprint the live manifest records for them).
type Graft struct {
	Files map[string]string
	Pages map[string]string
}

// Graft hard-links into the spare what g names of the live tree of out,
// replacing the spare's own pages of those packages, and records it in
// the spare's manifest. It is how the build after one that rendered most
// pages anew (a new ebpfrepo, a new template) reuses them: the spare is
// the tree before the live one and lacks them, and a link per page costs
// far less than rendering them again or cloning the whole live tree (a
// mkdir per directory: 78,000 at 10,000 versions). Sharing inodes with
// the live tree is safe for the reason CloneLive gives.
//
// The spare's manifests on disk are removed first, so that a graft cut
// short leaves a tree no build adopts. On an error the spare must not be
// adopted: the caller falls back to CloneLive.
func (s *Spare) Graft(out string, g Graft) error {
	os.Remove(manifestPath(out, s.id))
	os.Remove(namedManifestPath(s.dir))
	for rel, sha := range g.Files {
		if !ValidManifest(map[string]string{rel: sha}) {
			return fmt.Errorf("graft: %s: not a path of the TUF tree", rel)
		}
		to := filepath.Join(s.dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return fmt.Errorf("graft: %w", err)
		}
		if err := replaceLink(filepath.Join(out, filepath.FromSlash(rel)), to); err != nil {
			return fmt.Errorf("graft: %w", err)
		}
		s.Manifest.Files[rel] = sha
		delete(s.Manifest.Retired, rel)
		delete(s.verified, rel) // another file now: Intact reads it again
	}
	for name, fp := range g.Pages {
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
			return fmt.Errorf("graft: package %q: not a path component", name)
		}
		if err := s.graftPages(out, path.Dir(layout.PackagePage(name))); err != nil {
			return fmt.Errorf("graft: package %s: %w", name, err)
		}
		if s.Manifest.Catalogue == nil {
			s.Manifest.Catalogue = map[string]string{}
		}
		s.Manifest.Catalogue[name] = fp
	}
	return nil
}

// graftPages replaces the spare's directory rel with links to the files
// of the live tree's (linkTree: anything but regular files and
// directories fails it).
func (s *Spare) graftPages(out, rel string) error {
	to := filepath.Join(s.dir, filepath.FromSlash(rel))
	if err := os.RemoveAll(to); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	return linkTree(filepath.Join(out, filepath.FromSlash(rel)), to)
}

// replaceLink makes to a hard link to from, unlinking what was there.
func replaceLink(from, to string) error {
	fi, err := os.Lstat(from)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", from)
	}
	if err := os.Remove(to); err != nil && !os.IsNotExist(err) {
		return err
	}
	return os.Link(from, to)
}
