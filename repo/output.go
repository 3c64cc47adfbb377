package repo

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/ebpfrepo/ebpfrepo/internal/outtree"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/tufrepo"
)

// outDir resolves the output directory and refuses one that would hold
// or replace the repository itself (keys must never be published).
func (r *Repo) outDir(out string) (string, error) {
	if out == "" {
		out = r.paths().Public()
	}
	out = filepath.Clean(out)
	// An output that is a symbolic link (public -> /srv/www/repo) is
	// built and swapped where it points: the swap exchanges directories,
	// and must never move the link itself.
	if fi, err := os.Lstat(out); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		target, err := filepath.EvalSymlinks(out)
		if err != nil {
			return "", fmt.Errorf("build: output %s is a symbolic link that does not resolve: %w", out, err)
		}
		out = target
	}
	absOut, err := filepath.Abs(out)
	if err != nil {
		return "", err
	}
	absRepo, err := filepath.Abs(r.Dir)
	if err != nil {
		return "", err
	}
	within := func(p, dir string) bool {
		rel, err := filepath.Rel(dir, p)
		return err == nil && (rel == "." || (rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))))
	}
	if within(absRepo, absOut) {
		return "", fmt.Errorf("build: output directory %s holds the repository (and its keys): choose a directory of its own", out)
	}
	for _, d := range []string{layout.KeysDir, layout.PackagesDir, layout.RepoMetaDir, layout.CacheDir} {
		if within(absOut, filepath.Join(absRepo, d)) {
			return "", fmt.Errorf("build: output directory %s is inside the repository's %s/: choose another", out, d)
		}
	}
	if kd, err := filepath.Abs(r.keysDir()); err == nil && (within(kd, absOut) || within(absOut, kd)) {
		return "", fmt.Errorf("build: output directory %s and keys directory %s overlap: keys are never published; choose another output", out, kd)
	}
	return out, nil
}

// placement is where one version's artifact goes in the output.
type placement struct {
	src, sha string
	dsts     []string // slash-separated, relative to the output
}

// writeArtifacts places every artifact in the output — at its consistent
// target name for each platform, in the l3afd tree, and under
// l3afd/<name>/latest/ for the newest stable, non-yanked version — with
// one worker per CPU, and returns the artifacts as TUF targets.
func writeArtifacts(ctx context.Context, w *outtree.Writer, pkgs []*pkgBuild) ([]tufrepo.Target, error) {
	jobs := make(chan placement)
	errc := make(chan error, outtree.IOWorkers())
	var wg sync.WaitGroup
	for range outtree.IOWorkers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for pl := range jobs {
				l := w.Linker(pl.src)
				for _, d := range pl.dsts {
					if err := w.Place(d, pl.sha, l); err != nil {
						select {
						case errc <- err:
						default:
						}
						break
					}
				}
			}
		}()
	}
	// The placements go to the workers as they are made: their paths
	// (67,000 at 10,000 versions, 7 MB) are never all held at once.
	send := func(pl placement) error {
		select {
		case jobs <- pl:
			return nil
		case err := <-errc:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	targets, err := placeArtifacts(pkgs, send)
	close(jobs)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errc:
		default:
		}
	}
	if err != nil {
		return nil, err
	}
	return targets, nil
}

// placeArtifacts makes the placements of every artifact of pkgs, hands
// each to send, and returns the artifacts as TUF targets.
func placeArtifacts(pkgs []*pkgBuild, send func(placement) error) ([]tufrepo.Target, error) {
	var targets []tufrepo.Target
	for _, pb := range pkgs {
		p := pb.pkg
		items := make(map[string]*item, len(pb.items))
		for _, it := range pb.items {
			items[it.version] = it
		}
		latest := p.Latest()
		for i := range p.Versions {
			v := &p.Versions[i]
			it := items[v.Version]
			if it == nil {
				return nil, fmt.Errorf("package %s@%s: lost its artifact", p.Name, v.Version)
			}
			pl := placement{src: it.file(), sha: it.sha}
			bl := placement{src: it.bundle, sha: it.bundleSHA} // a keyless publisher's bundle, beside each target
			for _, a := range v.Artifacts {
				targets = append(targets, tufrepo.Target{Path: a.Path, Length: a.Length, SHA256: a.SHA256})
				pl.dsts = append(pl.dsts, layout.Target(a.Path, a.SHA256), layout.L3afd(a.Path))
				if v == latest {
					pl.dsts = append(pl.dsts, layout.L3afdLatest(p.Name, a.Platform, path.Base(a.Path)))
				}
				if it.keyless != nil {
					bt := layout.BundleTarget(a.Path)
					targets = append(targets, tufrepo.Target{Path: bt, Length: it.bundleLen, SHA256: it.bundleSHA})
					bl.dsts = append(bl.dsts, layout.Target(bt, it.bundleSHA))
				}
			}
			if err := send(pl); err != nil {
				return nil, err
			}
			if len(bl.dsts) > 0 {
				if err := send(bl); err != nil {
					return nil, err
				}
			}
		}
	}
	return targets, nil
}
