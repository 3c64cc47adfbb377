package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// memStore is a Store in memory that records the order of its Puts.
type memStore struct {
	mu      sync.Mutex
	objects map[string][]byte
	meta    map[string]Meta
	puts    []string
	failAt  string // a Put of this key fails
}

func newMemStore() *memStore {
	return &memStore{objects: map[string][]byte{}, meta: map[string]Meta{}}
}

func (m *memStore) Get(ctx context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objects[key]
	if !ok {
		return nil, fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	return b, nil
}

func (m *memStore) Put(ctx context.Context, key string, body io.ReadSeeker, size int64, meta Meta) error {
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if key == m.failAt {
		return errors.New("injected failure")
	}
	if int64(len(b)) != size {
		return fmt.Errorf("%s: %d bytes, said %d", key, len(b), size)
	}
	m.objects[key], m.meta[key] = b, meta
	m.puts = append(m.puts, key)
	return nil
}

func (m *memStore) Delete(ctx context.Context, keys []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		delete(m.objects, k)
	}
	return nil
}

func (m *memStore) String() string { return "mem://" }

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for rel, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

var tree1 = map[string]string{
	"metadata/1.root.json":            "root1",
	"metadata/2.root.json":            "root2",
	"metadata/1.targets.json":         "targets1",
	"metadata/1.bins-0.json":          "bins1",
	"metadata/1.snapshot.json":        "snap1",
	"metadata/timestamp.json":         "ts1",
	"targets/a/1.0/jammy/ab.x.tar.gz": "artifact",
	"targets/index/cd.all.json":       "index",
	"l3afd/a/1.0/jammy/x.tar.gz":      "artifact",
	"index.html":                      "<html>",
}

// TestPublishOrder: targets first, timestamp.json last, snapshot after
// the roles it lists, roots in version order; the Cache-Control and
// Content-Type of each path.
func TestPublishOrder(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, tree1)
	st := newMemStore()
	res, err := Publish(context.Background(), dir, st, Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"targets/a/1.0/jammy/ab.x.tar.gz", "targets/index/cd.all.json",
		"l3afd/a/1.0/jammy/x.tar.gz",
		"metadata/1.root.json", "metadata/2.root.json", "metadata/1.bins-0.json", "metadata/1.targets.json",
		"metadata/1.snapshot.json",
		"index.html",
		"metadata/timestamp.json",
		StateKey,
	}
	if diff := cmp.Diff(want, st.puts); diff != "" {
		t.Errorf("upload order (-want +got):\n%s", diff)
	}
	if res.Uploaded != len(tree1) {
		t.Errorf("uploaded %d, want %d", res.Uploaded, len(tree1))
	}
	for key, cc := range map[string]string{"metadata/timestamp.json": "no-cache", "targets/index/cd.all.json": "immutable", "l3afd/a/1.0/jammy/x.tar.gz": "no-cache", "index.html": "no-cache"} {
		if !strings.Contains(st.meta[key].CacheControl, cc) {
			t.Errorf("%s: Cache-Control %q, want %s", key, st.meta[key].CacheControl, cc)
		}
	}
	if st.meta["metadata/timestamp.json"].ContentType != "application/json" {
		t.Errorf("timestamp.json Content-Type %q", st.meta["metadata/timestamp.json"].ContentType)
	}
}

// TestPublishIncremental: a second publish uploads only what changed;
// what left the tree stays through the grace period, then goes.
func TestPublishIncremental(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, tree1)
	st := newMemStore()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	opts := Options{Now: func() time.Time { return now }, Grace: 24 * time.Hour}
	if _, err := Publish(context.Background(), dir, st, opts); err != nil {
		t.Fatal(err)
	}
	st.puts = nil
	os.Remove(filepath.Join(dir, "metadata", "1.snapshot.json"))
	writeFiles(t, dir, map[string]string{"metadata/2.snapshot.json": "snap2", "metadata/timestamp.json": "ts2"})
	now = now.Add(time.Hour)
	res, err := Publish(context.Background(), dir, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"metadata/2.snapshot.json", "metadata/timestamp.json", StateKey}, st.puts); diff != "" {
		t.Errorf("second publish uploaded (-want +got):\n%s", diff)
	}
	if res.Unchanged != len(tree1)-2 || res.Retained != 1 || len(res.Deleted) != 0 {
		t.Errorf("unchanged %d, retained %d, deleted %v", res.Unchanged, res.Retained, res.Deleted)
	}
	if _, ok := st.objects["metadata/1.snapshot.json"]; !ok {
		t.Error("the previous snapshot went before the grace period ended")
	}
	now = now.Add(25 * time.Hour)
	res, err = Publish(context.Background(), dir, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"metadata/1.snapshot.json"}, res.Deleted); diff != "" {
		t.Errorf("deleted after the grace period (-want +got):\n%s", diff)
	}
	if _, ok := st.objects["metadata/1.snapshot.json"]; ok {
		t.Error("the previous snapshot is still there after the grace period")
	}
}

// TestPublishInterrupted: a publish that fails part-way never uploads
// timestamp.json, so clients keep the previous, whole state; the next
// publish completes it.
func TestPublishInterrupted(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, tree1)
	st := newMemStore()
	if _, err := Publish(context.Background(), dir, st, Options{}); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{"metadata/2.snapshot.json": "snap2", "metadata/timestamp.json": "ts2", "targets/b/1.0/jammy/ef.y.tar.gz": "b"})
	st.failAt = "metadata/2.snapshot.json"
	if _, err := Publish(context.Background(), dir, st, Options{}); err == nil || !strings.Contains(err.Error(), "snapshot") {
		t.Fatalf("publish: %v, want the injected failure at the snapshot step", err)
	}
	if got := string(st.objects["metadata/timestamp.json"]); got != "ts1" {
		t.Errorf("timestamp.json after a failed publish: %q, want the previous one", got)
	}
	st.failAt = ""
	if _, err := Publish(context.Background(), dir, st, Options{}); err != nil {
		t.Fatal(err)
	}
	if got := string(st.objects["metadata/timestamp.json"]); got != "ts2" {
		t.Errorf("timestamp.json after the next publish: %q", got)
	}
}

func TestPublishDryRun(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, tree1)
	st := newMemStore()
	res, err := Publish(context.Background(), dir, st, Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.objects) != 0 || res.Uploaded != len(tree1) {
		t.Errorf("dry run: %d objects written, %d reported", len(st.objects), res.Uploaded)
	}
}

func TestPublishRefusesNonOutput(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"index.html": "x"})
	if _, err := Publish(context.Background(), dir, newMemStore(), Options{}); err == nil || !strings.Contains(err.Error(), "not a build output") {
		t.Errorf("err = %v", err)
	}
	os.Symlink("/etc/passwd", filepath.Join(dir, "link"))
	writeFiles(t, dir, map[string]string{"metadata/timestamp.json": "ts"})
	if _, err := Publish(context.Background(), dir, newMemStore(), Options{}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a link in the tree: err = %v", err)
	}
}
