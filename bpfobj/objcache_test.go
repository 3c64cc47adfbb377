package bpfobj

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestObjectCache checks that a cached inspection is the same report
// InspectObject gives, with the caller's path, and that reports handed
// out share nothing.
func TestObjectCache(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "verifier", "core.bpf.o"))
	if err != nil {
		t.Fatal(err)
	}
	c := NewObjectCache()
	for _, p := range []string{"bpf/a.o", "bpf/b.o", "other.o"} {
		want, err := InspectObject(p, data)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Inspect(p, data)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: cached report differs (-InspectObject +cache):\n%s", p, diff)
		}
		// Changing a report handed out leaves the cache as it was.
		if len(got.Programs) > 0 {
			got.Programs[0].Name = "changed"
			got.Programs[0].Helpers = append(got.Programs[0].Helpers[:0:0], "changed")
		}
		got.Maps = nil
	}
	if _, err := c.Inspect("bad.o", []byte("not an ELF")); err == nil {
		t.Error("a non-ELF inspected without error")
	}
	var none *ObjectCache
	if _, err := none.Inspect("a.o", data); err != nil {
		t.Errorf("nil cache: %v", err)
	}
}
