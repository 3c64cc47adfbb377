package repo

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/internal/atomicfile"
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

const (
	buildInfix = ".build-"
	oldInfix   = ".old-"
)

// tempOut makes the temporary output directory beside out, after removing
// what interrupted builds left there.
func (r *Repo) tempOut(out string) (string, error) {
	parent, base := filepath.Dir(out), filepath.Base(out)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	for _, infix := range []string{buildInfix, oldInfix} {
		stale, _ := filepath.Glob(filepath.Join(parent, "."+base+infix+"*"))
		for _, p := range stale {
			removeAllParallel(p)
		}
	}
	tmp, err := os.MkdirTemp(parent, "."+base+buildInfix)
	if err != nil {
		return "", err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	return tmp, nil
}

// ioWorkers is the number of goroutines for file-system metadata work
// (mkdir, link, unlink), which waits on the disk more than on the CPU.
func ioWorkers() int { return 4 * runtime.NumCPU() }

// removeAllParallel removes a tree, its subtrees two levels down one per
// CPU at a time: removing a large output is bound by unlink calls.
func removeAllParallel(dir string) error {
	var subs []string
	tops, _ := os.ReadDir(dir)
	for _, t := range tops {
		p := filepath.Join(dir, t.Name())
		if !t.IsDir() {
			subs = append(subs, p)
			continue
		}
		kids, _ := os.ReadDir(p)
		for _, k := range kids {
			subs = append(subs, filepath.Join(p, k.Name()))
		}
	}
	work := make(chan string)
	var wg sync.WaitGroup
	for range ioWorkers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				os.RemoveAll(p)
			}
		}()
	}
	for _, p := range subs {
		work <- p
	}
	close(work)
	wg.Wait()
	return os.RemoveAll(dir)
}

// dirMaker creates directories, remembering those made so that each is
// made once; safe for concurrent use.
type dirMaker struct{ made sync.Map }

func (m *dirMaker) mkdirAll(dir string) error {
	if _, ok := m.made.Load(dir); ok {
		return nil
	}
	// The parent is usually known to exist: one mkdir call, no stat.
	parent := filepath.Dir(dir)
	if _, ok := m.made.Load(parent); !ok && parent != dir {
		if err := m.mkdirAll(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
		return err
	}
	m.made.Store(dir, true)
	return nil
}

// linker places the bytes of one source file at several paths: hard links
// to the source when the file system allows, else one copy and hard links
// to it, so artifact bytes are never copied twice.
type linker struct {
	src   string
	first string // the first placed copy, when the source could not be linked
	dirs  *dirMaker
}

func (l *linker) place(dst string) error {
	if err := l.dirs.mkdirAll(filepath.Dir(dst)); err != nil {
		return err
	}
	if l.first == "" {
		if err := os.Link(l.src, dst); err == nil {
			return nil
		}
		if err := copyFile(l.src, dst); err != nil {
			return err
		}
		l.first = dst
		return nil
	}
	if err := os.Link(l.first, dst); err == nil {
		return nil
	}
	return copyFile(l.first, dst)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
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
func (r *Repo) writeArtifacts(ctx context.Context, w *treeWriter, pkgs []*index.Package, items map[string]*item) ([]tufrepo.Target, error) {
	var targets []tufrepo.Target
	var work []placement
	for _, p := range pkgs {
		latest := p.Latest()
		for i := range p.Versions {
			v := &p.Versions[i]
			it := items[p.Name+"@"+v.Version]
			if it == nil {
				return nil, fmt.Errorf("package %s@%s: lost its artifact", p.Name, v.Version)
			}
			pl := placement{src: it.path, sha: it.sha}
			for _, a := range v.Artifacts {
				targets = append(targets, tufrepo.Target{Path: a.Path, Length: a.Length, SHA256: a.SHA256})
				pl.dsts = append(pl.dsts, layout.Target(a.Path, a.SHA256), layout.L3afd(a.Path))
				if v == latest {
					pl.dsts = append(pl.dsts, layout.L3afdLatest(p.Name, a.Platform, path.Base(a.Path)))
				}
			}
			work = append(work, pl)
		}
	}
	jobs := make(chan placement)
	errc := make(chan error, ioWorkers())
	var wg sync.WaitGroup
	for range ioWorkers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for pl := range jobs {
				l := &linker{src: pl.src, dirs: &w.dirs}
				for _, d := range pl.dsts {
					if err := w.place(d, pl.sha, l); err != nil {
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
	var err error
feed:
	for _, pl := range work {
		select {
		case jobs <- pl:
		case err = <-errc:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
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

// TimestampOptions configures Timestamp. The zero value means defaults.
type TimestampOptions struct {
	OutDir string    // the published output to update (default REPO_DIR/public; skipped if it does not exist)
	Now    time.Time // zero: SOURCE_DATE_EPOCH, else the current time
	// Warn, if set, is told of every other role that expires within half
	// its period: timestamp alone cannot renew those, a build (with their
	// keys) must, before clients start failing.
	Warn func(msg string)
}

// Timestamp re-signs timestamp.json only (a new version and expiry) in
// REPO_DIR/metadata and, if it exists, in the published output, where the
// file is replaced atomically. Only the timestamp key is needed.
func (r *Repo) Timestamp(ctx context.Context, opts TimestampOptions) error {
	now, err := resolveNow(opts.Now)
	if err != nil {
		return err
	}
	out, err := r.outDir(opts.OutDir)
	if err != nil {
		return err
	}
	unlock, err := r.lock()
	if err != nil {
		return err
	}
	defer unlock()
	kr, err := r.keyring()
	if err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	metaDir := r.paths().Metadata()
	tr, err := tufrepo.Load(ctx, metaDir)
	if err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	tc, err := r.Config.tufConfig(0)
	if err != nil {
		return err
	}
	if err := tr.Timestamp(kr, tc, now); err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	if opts.Warn != nil {
		for _, role := range tr.Expiring(tc, now) {
			if role == tufrepo.RoleTimestamp {
				continue
			}
			how := "run ebpfrepo build (with its key) to renew it"
			if role == tufrepo.RoleRoot {
				how = "renew it with the root keys (docs/keys.md)"
			}
			opts.Warn(fmt.Sprintf("%s metadata expires within half its validity period; %s", role, how))
		}
	}
	var data []byte
	for name, b := range tr.Files() {
		if layout.Metadata(strings.TrimPrefix(filepath.ToSlash(name), layout.MetadataDir+"/")) == layout.Timestamp {
			data = b
		}
	}
	if data == nil {
		return fmt.Errorf("timestamp: tufrepo returned no timestamp.json")
	}
	if err := tr.Save(ctx, metaDir); err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	if _, err := os.Stat(filepath.Join(out, layout.MetadataDir)); err != nil {
		return nil // not built yet: the next build publishes it
	}
	if err := atomicfile.WriteFile(filepath.Join(out, filepath.FromSlash(layout.Timestamp)), data, 0o644); err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	return nil
}
