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

// FuzzReadManifest: whatever the file, ReadManifest and ScanManifest
// never panic, what ReadManifest accepts is exactly what json.Unmarshal
// reads from the same bytes, and ScanManifest hands over the same files
// wherever the manifest has them.
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
		scanned := map[string]string{}
		sm, serr := ScanManifest(p, func(rel, sha string) error { scanned[rel] = sha; return nil })
		got, err := ReadManifest(p)
		if (serr == nil) != (err == nil && got.Files != nil) {
			t.Fatalf("ScanManifest error %v, ReadManifest error %v (files %v): %q", serr, err, got, data)
		}
		if serr == nil {
			if diff := cmp.Diff(got.Files, scanned); diff != "" {
				t.Fatalf("ScanManifest's files differ from ReadManifest's (-read +scanned):\n%s\ninput %q", diff, data)
			}
			if sm.Files != nil || !cmp.Equal(sm.Catalogue, got.Catalogue) || !cmp.Equal(sm.Retired, got.Retired) {
				t.Fatalf("ScanManifest = %+v, ReadManifest = %+v", sm, got)
			}
		}
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
