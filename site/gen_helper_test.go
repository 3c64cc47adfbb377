package site

import (
	"context"
	"os"
	"testing"
)

func TestGenDemo(t *testing.T) {
	dir := os.Getenv("SITE_DEMO_DIR")
	if dir == "" {
		t.Skip("SITE_DEMO_DIR not set")
	}
	if err := Write(context.Background(), dir, fixtureData()); err != nil {
		t.Fatal(err)
	}
}

func TestGenReal(t *testing.T) {
	dir := os.Getenv("SITE_REAL_DIR")
	if dir == "" {
		t.Skip("SITE_REAL_DIR not set")
	}
	d := realData(t)
	if err := Write(context.Background(), dir, d); err != nil {
		t.Fatal(err)
	}
	w, _ := newWriter("", d)
	_, si := w.home()
	t.Log(helperOnlyTerm(si), expectedHits(si, "ringbuf", "", ""), expectedHits(si, "xdp", "", ""))
}
