package clientcheck

import (
	"context"
	"testing"

	"github.com/ebpfrepo/ebpfrepo/client/clienttest"
)

// TestRun measures a cold get and a warm check against the client's
// demo repository, laid out as ebpfrepo publishes.
func TestRun(t *testing.T) {
	f := clienttest.Demo(t)
	res, err := Run(context.Background(), Options{PublicDir: f.Dir, Root: f.RootBytes(), Name: "ratelimiting", Platform: "jammy"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Version != "1.1.0" {
		t.Errorf("got version %s, want 1.1.0 (latest stable)", res.Version)
	}
	c := res.Cold
	if c.Metadata == 0 || c.Index == 0 || c.Artifact == 0 || c.Requests < 6 {
		t.Errorf("cold get: %+v; want metadata, index and artifact bytes over at least 6 requests", c)
	}
	if c.Bytes != c.Metadata+c.Index+c.Artifact {
		t.Errorf("cold get: %d bytes, but kinds add up to %d", c.Bytes, c.Metadata+c.Index+c.Artifact)
	}
	w := res.Warm
	if w.Requests == 0 || w.Requests >= c.Requests || w.Artifact != 0 || w.Index != 0 {
		t.Errorf("warm check: %+v; want a few metadata requests and nothing else", w)
	}
	for _, r := range w.Log {
		t.Logf("warm: %s %d %d bytes", r.Path, r.Status, r.Bytes)
	}
}

func TestKindOf(t *testing.T) {
	for p, want := range map[string]string{
		"/metadata/timestamp.json":               "metadata",
		"/repo/metadata/3.bins-0a.json":          "metadata",
		"/targets/index/abc.all.json":            "index",
		"/targets/ratelimiting/1.0.0/jammy/x.gz": "artifact",
	} {
		if got := kindOf(p); got != want {
			t.Errorf("kindOf(%q) = %q, want %q", p, got, want)
		}
	}
}
