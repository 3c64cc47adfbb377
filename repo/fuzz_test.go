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

// FuzzDescShard feeds arbitrary shard files to the description cache:
// it must never panic, and a damaged entry is only a miss.
func FuzzDescShard(f *testing.F) {
	f.Add([]byte("ab12 {\"manifest\":{\"name\":\"x\"}}\nab12-verify {}\n"))
	f.Add([]byte("ab12 {\"manifest\":"))
	f.Add([]byte("\n\n \n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "ab.jsonl"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		c := newDescCache(dir)
		c.get("ab12", false)
		c.get("ab12", true)
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

func TestValidManifest(t *testing.T) {
	for _, tc := range []struct {
		rel string
		ok  bool
	}{
		{"targets/a/1.0.0/jammy/ab.x.tar.gz", true},
		{"metadata/timestamp.json", true},
		{"l3afd/a/latest/jammy/x.tar.gz", true},
		{"../keys/root.pem", false},
		{"targets/../../keys/root.pem", false},
		{"targets/a/../b", false},
		{"index.html", false},
		{"/etc/passwd", false},
		{"targets//x", false},
		{`targets\..\x`, false},
	} {
		if got := validManifest(map[string]string{tc.rel: "x"}); got != tc.ok {
			t.Errorf("%q: %v, want %v", tc.rel, got, tc.ok)
		}
	}
}
