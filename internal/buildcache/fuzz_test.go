package buildcache

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
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

// FuzzReadManifest: whatever the file, readManifest never panics, and
// what it accepts is exactly what json.Unmarshal reads from the same
// bytes.
func FuzzReadManifest(f *testing.F) {
	f.Add([]byte(`{"files":{"a/b":"01","c":"ff"},"catalogue":{"x":"1"},"retired":{"r":"12"}}`))
	f.Add([]byte(`{"files":{"a\u003cb\\\"":"\u00e9\u2028","\ufffd":"z"}}`))
	f.Add([]byte("{\"files\":{\"\xff\":\"a\"}}"))
	f.Add([]byte(`{"files":null}`))
	f.Add([]byte(` { "files" : { } } `))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "m.json")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := readManifest(p)
		if err != nil {
			return
		}
		var want TreeManifest
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatalf("readManifest accepted what json.Unmarshal refuses (%v): %q", err, data)
		}
		if diff := cmp.Diff(want, *got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("readManifest differs from json.Unmarshal (-want +got):\n%s\ninput %q", diff, data)
		}
	})
}
