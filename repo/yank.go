package repo

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/ebpfrepo/ebpfrepo/internal/atomicfile"
)

// Yank withdraws name@version from range resolution and "latest" (undo
// reverses it). It is recorded in REPO_DIR/yanked.toml and takes effect
// at the next build; the version stays downloadable by its exact version
// and is marked in the index with the reason.
func (r *Repo) Yank(ctx context.Context, name, version, reason string, undo bool) error {
	if !undo && reason == "" {
		return fmt.Errorf("yank %s@%s: give a reason (it is shown to everyone who resolves the version)", name, version)
	}
	for _, s := range []string{name, version} {
		if s == "" || s == "." || s == ".." || strings.ContainsAny(s, `/\`) {
			return fmt.Errorf("yank %s@%s: not a package name and version", name, version)
		}
	}
	s, err := r.open("yank", time.Time{})
	if err != nil {
		return err
	}
	defer s.close()
	if _, err := os.Stat(r.paths().Version(name, version)); err != nil {
		var have []string
		if ents, err := os.ReadDir(filepath.Join(r.paths().Packages(), name)); err == nil {
			for _, e := range ents {
				if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
					have = append(have, e.Name())
				}
			}
		}
		if len(have) == 0 {
			return fmt.Errorf("yank %s@%s: no package %s in %s", name, version, name, r.paths().Packages())
		}
		return fmt.Errorf("yank %s@%s: no such version in %s (versions of %s: %s)", name, version, r.paths().Packages(), name, strings.Join(have, ", "))
	}
	y, err := r.loadYanks()
	if err != nil {
		return err
	}
	idx := -1
	for i, e := range y.Yank {
		if e.Name == name && e.Version == version {
			idx = i
		}
	}
	if undo {
		if idx < 0 {
			return fmt.Errorf("yank --undo %s@%s: the version is not yanked", name, version)
		}
		y.Yank = append(y.Yank[:idx], y.Yank[idx+1:]...)
	} else {
		e := yankEntry{Name: name, Version: version, Reason: reason, At: s.now}
		if idx >= 0 {
			e.At = y.Yank[idx].At
			y.Yank[idx] = e
		} else {
			y.Yank = append(y.Yank, e)
		}
	}
	var buf bytes.Buffer
	buf.WriteString("# Yanked versions: skipped by range resolution and latest, still downloadable by exact version.\n# Managed by ebpfrepo yank; takes effect at the next build.\n\n")
	if err := toml.NewEncoder(&buf).Encode(y); err != nil {
		return err
	}
	return atomicfile.WriteFile(r.paths().Yanked(), buf.Bytes(), 0o644)
}
