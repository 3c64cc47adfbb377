package repo

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ebpfrepo/ebpfrepo/layout"
)

// FuzzConfig feeds arbitrary ebpfrepo.toml text to the loader: it must
// never panic, and what it accepts must convert to a tufrepo config.
func FuzzConfig(f *testing.F) {
	f.Add([]byte("name = \"x\"\nbins = 256\n[expiry]\ntimestamp = \"1d\"\n[keys]\ndir = \"keys\"\n"))
	f.Add([]byte("bins = 3\n"))
	f.Add([]byte("[expiry]\nroot = \"-5d\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, layout.ConfigFile), data, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := loadConfig(dir)
		if err != nil {
			return
		}
		if _, err := c.tufConfig(0); err != nil {
			t.Errorf("accepted config does not convert: %v", err)
		}
	})
}

// FuzzYanked feeds arbitrary yanked.toml text to the loader.
func FuzzYanked(f *testing.F) {
	f.Add([]byte("[[yank]]\nname = \"a\"\nversion = \"1.0.0\"\nreason = \"x\"\nat = 2026-01-01T00:00:00Z\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, layout.YankedFile), data, 0o644); err != nil {
			t.Fatal(err)
		}
		r := &Repo{Dir: dir, Config: &Config{}}
		if y, err := r.loadYanks(); err == nil {
			y.lookup("a", "1.0.0")
		}
	})
}
