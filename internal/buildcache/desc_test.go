package buildcache

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDescriptionsReadBack: an entry put in this build can be read back
// once flushed (the build parks descriptions there), as often as asked,
// from this instance and from a new one; appends after a torn line and
// further flushes keep every entry where it is.
func TestDescriptionsReadBack(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "desc")
	c := NewDescriptions(dir)
	a, b := strings.Repeat("ab", 32), strings.Repeat("ab", 31)+"cd" // same shard
	if err := c.PutRaw(a, false, []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Raw(a, false); ok {
		t.Fatal("an entry not flushed yet was found")
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	// A torn line (a crash mid-append) before the next flush.
	f, err := os.OpenFile(filepath.Join(dir, "ab.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("torn")
	f.Close()
	if err := c.PutRaw(b, true, []byte(`{"b":2}`)); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, cache := range []*Descriptions{c, NewDescriptions(dir)} {
		for range 2 {
			if raw, ok := cache.Raw(a, false); !ok || string(raw) != `{"a":1}` {
				t.Errorf("Raw(a) = %q, %v", raw, ok)
			}
		}
		if raw, ok := cache.Raw(b, true); cache == c && (!ok || string(raw) != `{"b":2}`) {
			t.Errorf("Raw(b) in the writing instance = %q, %v", raw, ok)
		}
		if _, ok := cache.Raw(b, false); ok {
			t.Error("found b without verify")
		}
	}
}
