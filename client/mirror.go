package client

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ebpfrepo/ebpfrepo/internal/filehash"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/layout"
)

// MirrorReport lists what Mirror did, one entry per file of the tree.
type MirrorReport struct {
	Dir     string        `json:"dir"`
	Entries []MirrorEntry `json:"entries"`
	Skipped []MirrorSkip  `json:"skipped"` // packages a selector named that gave nothing to mirror
}

// MirrorSkip is a package Mirror wrote nothing for, and why.
type MirrorSkip struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// MirrorEntry is one file of the mirrored tree.
type MirrorEntry struct {
	Name     string `json:"name"`
	Version  string `json:"version"` // the real version, also for latest entries
	Platform string `json:"platform"`
	Path     string `json:"path"`   // relative to the mirror dir, slash-separated
	Latest   bool   `json:"latest"` // the file under <name>/latest/
	Action   string `json:"action"` // "written", "replaced", "unchanged" or "removed" (a stale latest)
	SHA256   string `json:"sha256"`
}

// Counts returns how many files were changed (written, replaced or
// removed) and how many were already up to date.
func (r *MirrorReport) Counts() (written, unchanged int) {
	for _, e := range r.Entries {
		if e.Action == "unchanged" {
			unchanged++
		} else {
			written++
		}
	}
	return
}

// Mirror writes verified artifacts into dir in l3afd's layout,
// dir/<name>/<version>/<platform>/<artifact>, and for every mirrored
// package and platform also dir/<name>/latest/<platform>/<artifact>, so
// that l3afd configured with url: file://dir loads only verified
// programs.
//
// A selector is NAME (every non-yanked version of the package) or
// NAME@CONSTRAINT (for each platform, the newest version the constraint
// selects, see Resolve). Several selectors may name the same package. No
// selector means every non-yanked version of every package in the
// summary. latest is the newest stable version among those mirrored for
// the package and platform (the newest mirrored one when all are
// pre-releases or yanked), so a pinned selector such as
// "ratelimiting@~1.2" also pins what l3afd gets for "latest"; a latest
// left from an earlier run for a platform that no longer has one (its
// versions were all yanked) is removed.
//
// Re-running is incremental: a file already present with the signed
// sha256 is left alone; a stale file (such as an older latest) is
// replaced atomically. Only bytes verified through TUF are written.
// Mirror continues past a package that fails and returns every error
// joined, with the report of what it did write.
func (c *Client) Mirror(ctx context.Context, dir string, selectors ...string) (*MirrorReport, error) {
	rep := &MirrorReport{Dir: dir, Entries: []MirrorEntry{}, Skipped: []MirrorSkip{}}
	if len(selectors) == 0 {
		s, err := c.Summary(ctx)
		if err != nil {
			return rep, err
		}
		for _, p := range s.Packages {
			selectors = append(selectors, p.Name)
		}
	}
	// Group the selectors by package, keeping the order of first mention.
	var names []string
	byName := map[string][]string{}
	for _, sel := range selectors {
		name, _, _ := strings.Cut(sel, "@")
		if _, ok := byName[name]; !ok {
			names = append(names, name)
		}
		byName[name] = append(byName[name], sel)
	}
	var errs []error
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return rep, errors.Join(append(errs, err)...)
		}
		if err := c.mirrorPackage(ctx, dir, name, byName[name], rep); err != nil {
			errs = append(errs, err)
		}
	}
	return rep, errors.Join(errs...)
}

// mirrorPackage mirrors what the selectors of one package select, then
// its latest entries.
func (c *Client) mirrorPackage(ctx context.Context, dir, name string, sels []string, rep *MirrorReport) error {
	p, err := c.Info(ctx, name)
	if err != nil {
		return fmt.Errorf("mirror %s: %w", name, err)
	}
	var (
		rels []Release
		errs []error
		seen = map[string]bool{}
	)
	add := func(rel Release) {
		if !seen[rel.TargetPath] {
			seen[rel.TargetPath] = true
			rels = append(rels, rel)
		}
	}
	for _, sel := range sels {
		sr, err := selectReleases(p, sel)
		if err != nil {
			errs = append(errs, fmt.Errorf("mirror %s: %w", sel, err))
		}
		for _, rel := range sr {
			add(rel)
		}
	}
	if len(rels) == 0 && len(errs) == 0 {
		rep.Skipped = append(rep.Skipped, MirrorSkip{Name: name, Reason: "every version is yanked: name one (" + name + "@VERSION) to mirror it anyway"})
	}
	for _, rel := range rels {
		if err := c.mirrorFile(ctx, dir, rel, false, rep); err != nil {
			errs = append(errs, err)
		}
	}
	latest := latestOf(rels)
	for _, rel := range latest {
		if err := c.mirrorFile(ctx, dir, rel, true, rep); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		// The selection is complete: a latest for a platform that no
		// longer has one (every version yanked) must not stay behind.
		if err := removeStaleLatest(dir, p.Name, latest, rep); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeStaleLatest removes dir/<name>/latest/<platform>/* for the
// platforms latest does not cover.
func removeStaleLatest(dir, name string, latest []Release, rep *MirrorReport) error {
	keep := map[string]bool{}
	for _, r := range latest {
		keep[r.Platform] = true
	}
	ldir := filepath.Join(dir, name, layout.LatestVersion)
	plats, err := os.ReadDir(ldir)
	if err != nil {
		return nil // no latest directory yet
	}
	for _, pl := range plats {
		if !pl.IsDir() || keep[pl.Name()] {
			continue
		}
		files, err := os.ReadDir(filepath.Join(ldir, pl.Name()))
		if err != nil {
			return fmt.Errorf("mirror %s: %w", name, err)
		}
		for _, f := range files {
			if !f.Type().IsRegular() {
				continue
			}
			if err := os.Remove(filepath.Join(ldir, pl.Name(), f.Name())); err != nil {
				return fmt.Errorf("mirror %s: %w", name, err)
			}
			rep.Entries = append(rep.Entries, MirrorEntry{Name: name, Platform: pl.Name(),
				Path: layout.MirrorLatest(name, pl.Name(), f.Name()), Latest: true, Action: "removed"})
		}
	}
	return nil
}

// selectReleases lists the releases one selector names: NAME every
// artifact of every non-yanked version (none when all are yanked),
// NAME@CONSTRAINT the release the constraint resolves to on each
// platform (an error when it resolves on none).
func selectReleases(p *index.Package, sel string) ([]Release, error) {
	var rels []Release
	_, constraint, pinned := strings.Cut(sel, "@")
	if !pinned {
		for i := range p.Versions {
			v := &p.Versions[i]
			if v.Yanked != nil {
				continue
			}
			for j := range v.Artifacts {
				rels = append(rels, newRelease(p.Name, v, &v.Artifacts[j]))
			}
		}
		return rels, nil // every version yanked: nothing to mirror
	}
	for _, plat := range platformsOf(p) {
		if rel, err := releaseOf(p, constraint, plat); err == nil {
			rels = append(rels, rel)
		}
	}
	if len(rels) == 0 {
		_, err := releaseOf(p, constraint, "")
		if err == nil {
			err = errors.New("no artifacts")
		}
		return nil, err
	}
	return rels, nil
}

// latestOf picks, per platform, the release latest/ should hold: the
// newest stable one, else the newest one.
func latestOf(rels []Release) []Release {
	best := map[string]Release{}
	var plats []string
	for _, r := range rels {
		cur, ok := best[r.Platform]
		if !ok {
			plats = append(plats, r.Platform)
			best[r.Platform] = r
			continue
		}
		rs, cs := index.IsStable(r.Version, r.Yanked), index.IsStable(cur.Version, cur.Yanked)
		if rs && !cs || rs == cs && index.CompareVersions(r.Version, cur.Version) > 0 {
			best[r.Platform] = r
		}
	}
	out := make([]Release, 0, len(plats))
	for _, p := range plats {
		out = append(out, best[p])
	}
	return out
}

// platformsOf lists every platform any version of p is built for.
func platformsOf(p *index.Package) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range p.Versions {
		for _, a := range v.Artifacts {
			if !seen[a.Platform] {
				seen[a.Platform] = true
				out = append(out, a.Platform)
			}
		}
	}
	return out
}

func (c *Client) mirrorFile(ctx context.Context, dir string, rel Release, latest bool, rep *MirrorReport) error {
	relPath := layout.ArtifactTarget(rel.Name, rel.Version, rel.Platform, rel.Artifact)
	if latest {
		relPath = layout.MirrorLatest(rel.Name, rel.Platform, rel.Artifact)
	}
	dst := filepath.Join(dir, filepath.FromSlash(relPath))
	e := MirrorEntry{Name: rel.Name, Version: rel.Version, Platform: rel.Platform, Path: relPath, Latest: latest, SHA256: rel.SHA256}
	switch sum, err := fileSHA256(dst); {
	case err == nil && sum == rel.SHA256:
		e.Action = "unchanged"
		rep.Entries = append(rep.Entries, e)
		return nil
	case err == nil:
		e.Action = "replaced"
	default:
		e.Action = "written"
	}
	if _, err := c.Fetch(ctx, rel, filepath.Dir(dst)); err != nil {
		return fmt.Errorf("mirror %s: %w", relPath, err)
	}
	rep.Entries = append(rep.Entries, e)
	return nil
}

func fileSHA256(name string) (string, error) {
	sum, _, err := filehash.SHA256(name)
	return sum, err
}
