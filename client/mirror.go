package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ebpfrepo/ebpfrepo/index"
)

// MirrorReport lists what Mirror did, one entry per file of the tree.
type MirrorReport struct {
	Dir     string        `json:"dir"`
	Entries []MirrorEntry `json:"entries"`
}

// MirrorEntry is one file of the mirrored tree.
type MirrorEntry struct {
	Name     string `json:"name"`
	Version  string `json:"version"` // the real version, also for latest entries
	Platform string `json:"platform"`
	Path     string `json:"path"`   // relative to the mirror dir, slash-separated
	Latest   bool   `json:"latest"` // the file under <name>/latest/
	Action   string `json:"action"` // "written", "replaced" or "unchanged"
	SHA256   string `json:"sha256"`
}

// Counts returns how many files were written (new or replaced) and how
// many were already up to date.
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
// dir/<name>/<version>/<platform>/<artifact>, and the newest stable
// version of every mirrored package and platform also as
// dir/<name>/latest/<platform>/<artifact>, so that l3afd configured with
// url = file://dir loads only verified programs.
//
// A selector is NAME (every non-yanked version of the package) or
// NAME@CONSTRAINT (for each platform, the newest version the constraint
// selects, see Resolve). No selector means every non-yanked version of
// every package in the summary. Re-running is incremental: a file already
// present with the signed sha256 is left alone; a stale file (such as an
// older latest) is replaced atomically. Only bytes verified through TUF
// are written. Mirror continues past a package that fails and returns
// every error joined, with the report of what it did write.
func (c *Client) Mirror(ctx context.Context, dir string, selectors ...string) (*MirrorReport, error) {
	rep := &MirrorReport{Dir: dir, Entries: []MirrorEntry{}}
	if len(selectors) == 0 {
		s, err := c.Summary(ctx)
		if err != nil {
			return rep, err
		}
		for _, p := range s.Packages {
			selectors = append(selectors, p.Name)
		}
	}
	var errs []error
	for _, sel := range selectors {
		if err := ctx.Err(); err != nil {
			return rep, errors.Join(append(errs, err)...)
		}
		name, constraint, _ := strings.Cut(sel, "@")
		if err := c.mirrorOne(ctx, dir, name, constraint, sel, rep); err != nil {
			errs = append(errs, err)
		}
	}
	return rep, errors.Join(errs...)
}

func (c *Client) mirrorOne(ctx context.Context, dir, name, constraint, sel string, rep *MirrorReport) error {
	p, err := c.Info(ctx, name)
	if err != nil {
		return fmt.Errorf("mirror %s: %w", sel, err)
	}
	var rels []Release
	if strings.Contains(sel, "@") {
		for _, plat := range platformsOf(p) {
			rel, err := releaseOf(p, constraint, plat)
			if err != nil {
				continue // this platform has no matching version
			}
			rels = append(rels, rel)
		}
		if len(rels) == 0 {
			_, err := releaseOf(p, constraint, "")
			if err == nil {
				err = fmt.Errorf("no artifacts")
			}
			return fmt.Errorf("mirror %s: %w", sel, err)
		}
	} else {
		for i := range p.Versions {
			v := &p.Versions[i]
			if v.Yanked != nil {
				continue
			}
			for j := range v.Artifacts {
				rels = append(rels, newRelease(p.Name, v, &v.Artifacts[j]))
			}
		}
	}
	var errs []error
	for _, rel := range rels {
		if err := c.mirrorFile(ctx, dir, rel, false, rep); err != nil {
			errs = append(errs, err)
		}
	}
	for _, plat := range platformsOf(p) {
		rel, err := releaseOf(p, "latest", plat)
		if err != nil {
			continue // no stable version for this platform
		}
		if err := c.mirrorFile(ctx, dir, rel, true, rep); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
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
	ver := rel.Version
	if latest {
		ver = "latest"
	}
	relPath := rel.Name + "/" + ver + "/" + rel.Platform + "/" + rel.Artifact
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
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
