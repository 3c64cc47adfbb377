package tufrepo

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBinCache: a Load with the cache summarises the bins it verified
// before without verifying them again, to the same repository; tampered
// bytes miss it and are refused as without it; a cache made under
// another delegation is ignored.
func TestBinCache(t *testing.T) {
	r, _, _, dir := binRepo(t, 200)
	cache := filepath.Join(t.TempDir(), "bins.json")

	first, err := Load(context.Background(), dir, Options{BinCache: cache})
	if err != nil {
		t.Fatal(err)
	}
	var f binCacheFile
	raw, err := os.ReadFile(cache)
	if err != nil || json.Unmarshal(raw, &f) != nil || len(f.Bins) != len(r.bins) || f.Trust == "" {
		t.Fatalf("cache after the first load: %v, %d entries for %d bins", err, len(f.Bins), len(r.bins))
	}
	second, err := Load(context.Background(), dir, Options{BinCache: cache})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first.bins, second.bins, cmp.AllowUnexported(binMeta{})); diff != "" {
		t.Errorf("bins summarised from the cache differ from verified ones (-verified +cached):\n%s", diff)
	}

	// The same bin tampered with: its bytes miss the cache.
	var name string
	var b binMeta
	for n, m := range r.bins {
		if strings.Contains(string(binBytes(t, m)), `"sha256":"`) {
			name, b = n, m
			break
		}
	}
	file := fmt.Sprintf("%d.%s.json", b.version, name)
	bad := replaceAfter(binBytes(t, b), `"sha256":"`, 'f', '0')
	d := t.TempDir()
	copyDir(t, dir, d)
	if err := os.WriteFile(filepath.Join(d, file), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(context.Background(), d, Options{BinCache: cache}); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("Load of a tampered bin with a warm cache: %v, want the error naming %s", err, file)
	}

	// A cache recorded under another delegation (a rotated bins key) is
	// not used: forge it to vouch for the tampered bytes, change its trust.
	c := openBinCache(cache, f.Trust)
	c.remember(name, bad, b)
	c.trust = "another delegation"
	c.save(append([]string{name}, keys(r.bins)...))
	if _, err := Load(context.Background(), d, Options{BinCache: cache}); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("Load with a cache from another delegation vouching for tampered bytes: %v, want the error naming %s", err, file)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
