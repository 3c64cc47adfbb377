package tufrepo

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLoadErrors(t *testing.T) {
	ctx := context.Background()
	_, err := Load(ctx, t.TempDir(), Options{})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(empty dir): %v, want fs.ErrNotExist", err)
	}
	r, _, _, _ := updatedRepo(t, 20)
	for name, b := range metaFilesOf(t, r) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := r.Save(ctx, dir); err != nil {
				t.Fatal(err)
			}
			bad := bytes.Replace(b, []byte(`"version":`), []byte(`"version":1`), 1)
			if err := os.WriteFile(filepath.Join(dir, name), bad, 0o644); err != nil {
				t.Fatal(err)
			}
			var me *MetadataError
			if _, err := Load(ctx, dir, Options{}); !errors.As(err, &me) || !strings.Contains(me.File, name) {
				t.Errorf("Load with tampered %s: %v, want a MetadataError naming it", name, err)
			}
		})
	}
}

func TestSaveRemovesSuperseded(t *testing.T) {
	ctx := context.Background()
	kr := newKeyring(t, 1)
	r, err := Init(Options{Keys: kr, Config: Config{}, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := r.Save(ctx, dir); err != nil {
		t.Fatal(err)
	}
	targets, _ := makeTargets(20, "v1")
	if _, err := r.with(kr, Config{}, testNow).Update(ctx, targets); err != nil {
		t.Fatal(err)
	}
	if err := r.Save(ctx, dir); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	for n := range r.metaFiles() {
		want = append(want, n)
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dir (-want +got):\n%s", diff)
	}
}

func FuzzLoad(f *testing.F) {
	kr := newKeyring(f, 1)
	r, err := Init(Options{Keys: kr, Config: Config{}, Now: testNow})
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	if err := r.Save(context.Background(), dir); err != nil {
		f.Fatal(err)
	}
	f.Add(r.timestamp.raw, "timestamp.json")
	f.Add(r.snapshot.raw, "1.snapshot.json")
	f.Add(r.targets.raw, "1.targets.json")
	f.Add(r.rootJSON(1), "1.root.json")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		if _, ok := r.metaFiles()[name]; !ok {
			return
		}
		d := t.TempDir()
		for n, b := range metaFilesOf(t, r) {
			if n == name {
				b = data
			}
			if err := os.WriteFile(filepath.Join(d, n), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		Load(context.Background(), d, Options{})
	})
}

func TestZeroRepo(t *testing.T) {
	var r Repo
	if _, err := r.with(NewKeyring(), Config{}, testNow).Update(context.Background(), nil); err == nil {
		t.Error("Update on a zero Repo: no error")
	}
	if err := r.with(NewKeyring(), Config{}, testNow).Timestamp(); err == nil {
		t.Error("Timestamp on a zero Repo: no error")
	}
	if err := r.withKeys(NewKeyring(), testNow).RotateKey(RoleRoot, nil); err == nil {
		t.Error("RotateKey on a zero Repo: no error")
	}
	if err := r.Save(context.Background(), t.TempDir()); err == nil {
		t.Error("Save of a zero Repo: no error")
	}
	if len(filesOf(t, &r)) != 0 || r.Info().Bins != 0 || r.rootVersion() != 0 {
		t.Error("zero Repo reports content")
	}
}

func TestSaveIsCommittedByTimestamp(t *testing.T) {
	ctx := context.Background()
	kr := newKeyring(t, 1)
	r, err := Init(Options{Keys: kr, Config: Config{}, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := r.Save(ctx, dir); err != nil {
		t.Fatal(err)
	}
	old := filesOf(t, r)
	fi1, _ := os.Stat(filepath.Join(dir, "1.root.json"))
	if err := r.Save(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if fi2, _ := os.Stat(filepath.Join(dir, "1.root.json")); !os.SameFile(fi1, fi2) {
		t.Error("Save with no change rewrote 1.root.json")
	}
	targets, _ := makeTargets(30, "v1")
	if _, err := r.with(kr, Config{}, testNow).Update(ctx, targets); err != nil {
		t.Fatal(err)
	}
	for name, b := range metaFilesOf(t, r) {
		if name != "timestamp.json" {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	loaded, err := Load(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(old, filesOf(t, loaded)); diff != "" {
		t.Errorf("interrupted save: loaded state is not the previous one:\n%s", diff)
	}
}
