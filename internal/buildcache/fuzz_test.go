package buildcache

import (
	"os"
	"path/filepath"
	"testing"
)

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
		c := NewDescriptions(dir)
		c.Get("ab12", false)
		c.Get("ab12", true)
	})
}
