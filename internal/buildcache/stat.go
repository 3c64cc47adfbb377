package buildcache

import (
	"bufio"
	"encoding/json"
	"os"
)

// Stats maps an artifact under packages/ (relative path) to its size,
// modification time and sha256, so that unchanged artifacts are not read
// again. It lives in .cache/files.json; it is only a cache.
type Stats struct {
	path    string
	Entries map[string]StatEntry `json:"entries"`
}

// StatEntry is what Stats remembers of one artifact.
type StatEntry struct {
	Size   int64  `json:"size"`
	MTime  int64  `json:"mtime_ns"`
	SHA256 string `json:"sha256"`
}

// LoadStats reads the stat cache at path; a missing or damaged one is empty.
func LoadStats(path string) *Stats {
	c := &Stats{path: path, Entries: map[string]StatEntry{}}
	data, err := os.ReadFile(path)
	if err == nil && json.Unmarshal(data, c) == nil && c.Entries != nil {
		return c
	}
	return &Stats{path: path, Entries: map[string]StatEntry{}}
}

// Lookup returns the sha256 recorded for rel when its size and
// modification time are those of fi.
func (c *Stats) Lookup(rel string, fi os.FileInfo) (string, bool) {
	e, ok := c.Entries[rel]
	if !ok || e.Size != fi.Size() || e.MTime != fi.ModTime().UnixNano() {
		return "", false
	}
	return e.SHA256, true
}

// Set records rel with fi's size and modification time.
func (c *Stats) Set(rel string, fi os.FileInfo, sha string) {
	c.Entries[rel] = StatEntry{Size: fi.Size(), MTime: fi.ModTime().UnixNano(), SHA256: sha}
}

// Save writes the cache (atomically, without fsync).
func (c *Stats) Save() error {
	return writeFileFunc(c.path, func(w *bufio.Writer) error {
		w.WriteString(`{"entries":`)
		if err := writeJSONMap(w, c.Entries, func(e StatEntry) ([]byte, error) { return json.Marshal(e) }); err != nil {
			return err
		}
		_, err := w.WriteString("}")
		return err
	})
}

// Record remembers an artifact's size, modification time and sha256.
func (c *Stats) Record(rel string, e StatEntry) { c.Entries[rel] = e }

// Prune forgets every artifact live does not name.
func (c *Stats) Prune(live map[string]bool) {
	for rel := range c.Entries {
		if !live[rel] {
			delete(c.Entries, rel)
		}
	}
}
