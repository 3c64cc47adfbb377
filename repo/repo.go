package repo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ebpfrepo/ebpfrepo/internal/atomicfile"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/tufrepo"
)

// Repo is an open repository directory.
type Repo struct {
	Dir    string
	Config *Config
}

// InitOptions configures Init. The zero value means defaults.
type InitOptions struct {
	Name          string    // default: the base name of the directory
	Description   string    // shown in the index and the catalogue
	BaseURL       string    // public URL of the output, if known
	RootKeys      int       // number of root keys to generate (default 1)
	RootThreshold int       // signatures root needs (default 1; at most RootKeys)
	Now           time.Time // zero: SOURCE_DATE_EPOCH, else the current time
}

// ExistsError reports that Init found a repository (or parts of one).
type ExistsError struct {
	Dir  string
	Path string
}

func (e *ExistsError) Error() string {
	return fmt.Sprintf("init %s: %s already exists: refusing to overwrite a repository", e.Dir, e.Path)
}

// Init creates a repository in dir (which may exist, but must not hold
// ebpfrepo.toml, keys/, metadata/ or packages/): ebpfrepo.toml, keys/
// (0700) with one 0600 ed25519 key per role (RootKeys for root),
// packages/, and metadata/1.root.json signed by the root keys.
func Init(ctx context.Context, dir string, opts InitOptions) (err error) {
	for _, p := range []string{layout.ConfigFile, layout.KeysDir, layout.RepoMetaDir, layout.PackagesDir} {
		if _, err := os.Lstat(filepath.Join(dir, p)); err == nil {
			return &ExistsError{Dir: dir, Path: filepath.Join(dir, p)}
		}
	}
	if opts.RootKeys == 0 {
		opts.RootKeys = 1
	}
	if opts.RootThreshold == 0 {
		opts.RootThreshold = 1
	}
	if opts.RootKeys < 1 || opts.RootKeys > 16 || opts.RootThreshold < 1 || opts.RootThreshold > opts.RootKeys {
		return fmt.Errorf("init %s: root keys %d, threshold %d: need 1 ≤ threshold ≤ keys ≤ 16", dir, opts.RootKeys, opts.RootThreshold)
	}
	now, err := resolveNow(opts.Now)
	if err != nil {
		return err
	}
	if opts.Name == "" {
		abs, _ := filepath.Abs(dir)
		opts.Name = filepath.Base(abs)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	created := []string{layout.RepoDir(dir).Keys()}
	defer func() {
		if err != nil {
			for _, p := range created {
				os.RemoveAll(p)
			}
		}
	}()
	for _, d := range []struct {
		name string
		mode os.FileMode
	}{{layout.PackagesDir, 0o755}, {layout.RepoMetaDir, 0o755}} {
		p := filepath.Join(dir, d.name)
		if err := os.Mkdir(p, d.mode); err != nil {
			return fmt.Errorf("init: %w", err)
		}
		created = append(created, p)
		if err := os.Chmod(p, d.mode); err != nil { // umask
			return fmt.Errorf("init: %w", err)
		}
	}
	cfg := &Config{Name: opts.Name, Description: opts.Description, BaseURL: opts.BaseURL, Expiry: defaultExpiry, Keys: Keys{Dir: layout.KeysDir}}
	kr, err := tufrepo.CreateKeys(layout.RepoDir(dir).Keys(), opts.RootKeys)
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	tc, err := cfg.tufConfig(opts.RootThreshold)
	if err != nil {
		return err
	}
	tr, err := tufrepo.Init(tufrepo.Options{Keys: kr, Config: tc, Now: now})
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if err := tr.Save(ctx, layout.RepoDir(dir).Metadata()); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	data, err := marshalConfig(cfg)
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	p := layout.RepoDir(dir).Config()
	created = append(created, p)
	if err := atomicfile.WriteFile(p, data, 0o644); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	return writeGitIgnore(dir)
}

// gitIgnore keeps private keys and what a build regenerates out of
// version control; metadata/, packages/, yanked.toml and ebpfrepo.toml
// belong in it.
const gitIgnore = `# Written by ebpfrepo init. Never commit private keys; the rest is rebuilt.
/keys/
/.cache/
/.lock
/public/
/.public.*
`

// writeGitIgnore writes dir/.gitignore unless there is one.
func writeGitIgnore(dir string) error {
	p := filepath.Join(dir, layout.GitIgnore)
	if _, err := os.Lstat(p); err == nil {
		return nil
	}
	if err := atomicfile.WriteFile(p, []byte(gitIgnore), 0o644); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	return nil
}

// paths is the repository directory's layout.
func (r *Repo) paths() layout.RepoDir { return layout.RepoDir(r.Dir) }

// Open opens the repository in dir.
func Open(ctx context.Context, dir string) (*Repo, error) {
	cfg, err := loadConfig(dir)
	if err != nil {
		return nil, err
	}
	return &Repo{Dir: dir, Config: cfg}, nil
}

// resolveNow returns t, else the time SOURCE_DATE_EPOCH names, else the
// current time; UTC, whole seconds.
func resolveNow(t time.Time) (time.Time, error) {
	if t.IsZero() {
		if s := strings.TrimSpace(os.Getenv("SOURCE_DATE_EPOCH")); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 0 {
				return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want seconds since 1970 (an integer)", s)
			}
			t = time.Unix(n, 0)
		} else {
			t = time.Now()
		}
	}
	return t.UTC().Truncate(time.Second), nil
}
