package tufrepo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// binRepo returns a repository of n targets saved in a new directory.
func binRepo(t *testing.T, n int) (*Repo, *Keyring, []Target, string) {
	t.Helper()
	r, kr, targets, _ := updatedRepo(t, n)
	dir := t.TempDir()
	if err := r.Save(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	return r, kr, targets, dir
}

// TestBinTampered checks that a bin whose targets were changed after
// signing is refused, whichever byte is changed.
func TestBinTampered(t *testing.T) {
	r, _, _, dir := binRepo(t, 200)
	var name string
	var raw []byte
	for n, b := range r.bins {
		if bytes.Contains(binBytes(t, b), []byte(`"sha256":"`)) {
			name, raw = fmt.Sprintf("%d.%s.json", b.version, n), binBytes(t, b)
			break
		}
	}
	tests := map[string][]byte{
		"hash":   replaceAfter(raw, `"sha256":"`, 'f', '0'),
		"length": bytes.Replace(raw, []byte(`"length":`), []byte(`"length":9`), 1),
		"sig":    replaceAfter(raw, `"sig":"`, 'f', '0'),
	}
	for what, bad := range tests {
		t.Run(what, func(t *testing.T) {
			if bytes.Equal(bad, raw) {
				t.Fatal("nothing changed")
			}
			d := t.TempDir()
			copyDir(t, dir, d)
			if err := os.WriteFile(filepath.Join(d, name), bad, 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := Load(context.Background(), d, Options{}); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("Load with tampered %s of %s: %v, want an error naming it", what, name, err)
			}
		})
	}
}

// replaceAfter changes the first byte after marker to a (or b if it is a).
func replaceAfter(raw []byte, marker string, a, b byte) []byte {
	out := slices.Clone(raw)
	i := bytes.Index(out, []byte(marker)) + len(marker)
	if out[i] == a {
		out[i] = b
	} else {
		out[i] = a
	}
	return out
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBinOtherSerialisation checks that a validly signed bin that is not
// serialised the way ebpfrepo writes it loads through go-tuf's path and
// is kept byte for byte while its targets do not change.
func TestBinOtherSerialisation(t *testing.T) {
	ctx := context.Background()
	r, kr, targets, dir := binRepo(t, 200)
	n := r.binFor(targets[0].Path)
	b := r.bins[n]
	md, err := b.parse()
	if err != nil {
		t.Fatal(err)
	}
	pretty, err := md.ToBytes(true)
	if err != nil {
		t.Fatal(err)
	}
	file := fmt.Sprintf("%d.%s.json", b.version, n)
	if err := os.WriteFile(filepath.Join(dir, file), pretty, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Load(ctx, dir, Options{})
	if err != nil {
		t.Fatalf("Load with an indented bin: %v", err)
	}
	res, err := l.with(kr, Config{}, testNow).Update(ctx, targets)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changed) != 0 {
		t.Errorf("no-change Update re-signed %v", res.Changed)
	}
	if got := filesOf(t, l)[MetadataDir+"/"+file]; !bytes.Equal(got, pretty) {
		t.Errorf("no-change Update changed the bytes of %s", file)
	}
	targets[0] = targetOf(targets[0].Path, []byte("new"))
	if res, err = l.with(kr, Config{}, testNow).Update(ctx, targets); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{n, RoleSnapshot, RoleTimestamp}, res.Changed); diff != "" {
		t.Errorf("re-signed (-want +got):\n%s", diff)
	}
}

// TestRefreshKeepsBinTargets checks that Refresh re-signs expiring bins
// with their targets unchanged.
func TestRefreshKeepsBinTargets(t *testing.T) {
	r, kr, _, _ := binRepo(t, 200)
	before := map[string]binMeta{}
	for n, b := range r.bins {
		before[n] = b
	}
	res, err := r.with(kr, Config{}, testNow.Add(46*24*time.Hour)).Refresh()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(res.Changed), len(before)+4; got != want { // + targets, unclaimed, snapshot, timestamp
		t.Errorf("Refresh re-signed %d roles, want %d", got, want)
	}
	for n, b := range r.bins {
		o := before[n]
		if b.version != o.version+1 || b.digest != o.digest || !b.plain || b.sum == o.sum {
			t.Errorf("%s: version %d → %d, same targets %v", n, o.version, b.version, b.digest == o.digest)
		}
	}
}

func TestBinDigest(t *testing.T) {
	e := func(p string, l int64, s byte) binEntry { return binEntry{path: p, length: l, sum: [32]byte{s}} }
	base := []binEntry{e("a", 1, 1), e("b", 2, 2)}
	tests := []struct {
		name  string
		other []binEntry
		equal bool
	}{
		{"same", []binEntry{e("a", 1, 1), e("b", 2, 2)}, true},
		{"reordered", []binEntry{e("b", 2, 2), e("a", 1, 1)}, true},
		{"length", []binEntry{e("a", 1, 1), e("b", 3, 2)}, false},
		{"hash", []binEntry{e("a", 1, 1), e("b", 2, 3)}, false},
		{"path", []binEntry{e("a", 1, 1), e("c", 2, 2)}, false},
		{"fewer", []binEntry{e("a", 1, 1)}, false},
		{"split path", []binEntry{e("a", 1, 1), e("b", 2, 2), e("", 0, 0)}, false},
		{"empty", nil, false},
	}
	want := binDigest(slices.Clone(base))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := binDigest(tt.other) == want; got != tt.equal {
				t.Errorf("digest equal = %v, want %v", got, tt.equal)
			}
		})
	}
}

// TestBinIndex checks binIndex against go-tuf's GetRolesForTarget, which
// clients use to find a target's bin.
func TestBinIndex(t *testing.T) {
	targets, _ := makeTargets(2000, "idx")
	for _, bits := range []int{MinBinBits, 5, 8, 9, MaxBinBits} {
		sr := &metadata.SuccinctRoles{BitLength: bits, NamePrefix: RoleBins}
		names := sr.GetRoles()
		for _, tg := range append(targets, Target{Path: "a/ü/b"}) {
			if got, want := names[binIndex(tg.Path, bits)], sr.GetRolesForTarget(tg.Path)[0].Name; got != want {
				t.Fatalf("bits %d: %s in %s, go-tuf says %s", bits, tg.Path, got, want)
			}
		}
	}
}

// TestBinBitsFor: bins are sized so that a client's snapshot plus one
// bin stays small at any size, and small repositories keep few bins.
func TestBinBitsFor(t *testing.T) {
	for _, tc := range []struct{ n, bits int }{
		{0, 1}, {128, 1}, {129, 2}, {3100, 6}, {31000, 9}, {310000, 10}, {3100000, 12},
	} {
		if got := BinBitsFor(tc.n); got != tc.bits {
			t.Errorf("BinBitsFor(%d) = %d, want %d", tc.n, got, tc.bits)
		}
	}
	// At 310,000 targets what a client reads (snapshot + one bin) is a
	// third of what 64 targets per bin would give.
	perClient := func(n, b int) int { return SnapshotBytesPerBin<<b + BinBytesPerTarget*n>>b }
	if got, old := perClient(310000, BinBitsFor(310000)), perClient(310000, 13); got*3 > old {
		t.Errorf("per-client bytes at 310,000 targets: %d, with 8,192 bins %d", got, old)
	}
}

// TestBinReadBack: a loaded Repo holds none of its bins' bytes but reads
// them back from the files it loaded, and refuses, naming the file, one
// changed since (same length or not); Save then leaves the metadata of
// record as it was. A bin just signed is held until EachFile is told
// where its bytes now are, then read back from there.
func TestBinReadBack(t *testing.T) {
	ctx := context.Background()
	_, kr, targets, dir := binRepo(t, 200)
	l, err := Load(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var name string
	for n, b := range l.bins {
		if b.raw != nil {
			t.Errorf("%s: bytes held after Load", n)
		}
		name = fmt.Sprintf("%d.%s.json", b.version, n)
	}
	for rel, data := range filesOf(t, l) {
		if disk, err := os.ReadFile(filepath.Join(dir, strings.TrimPrefix(rel, MetadataDir+"/"))); err != nil || !bytes.Equal(disk, data) {
			t.Errorf("%s: Files differs from the file Save wrote (%v)", rel, err)
		}
	}
	good, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	timestamp, _ := os.ReadFile(filepath.Join(dir, RoleTimestamp+".json"))
	for what, bad := range map[string][]byte{
		"same length": replaceAfter(good, `"sig":"`, 'f', '0'),
		"longer":      append(bytes.Clone(good), '\n'),
	} {
		t.Run(what, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, name), bad, 0o644); err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(filepath.Join(dir, name), good, 0o644)
			_, err := l.Files()
			var me *MetadataError
			if !errors.As(err, &me) || me.File != filepath.Join(dir, name) || !errors.Is(err, errChangedFile) {
				t.Fatalf("Files: got %v, want a MetadataError for %s: %v", err, name, errChangedFile)
			}
			if err := l.Save(ctx, dir); !errors.Is(err, errChangedFile) {
				t.Fatalf("Save: got %v, want %v", err, errChangedFile)
			}
			if now, _ := os.ReadFile(filepath.Join(dir, RoleTimestamp+".json")); !bytes.Equal(now, timestamp) {
				t.Error("Save wrote timestamp.json after refusing a bin")
			}
		})
	}

	// A changed target re-signs one bin, held until EachFile places it.
	targets[7] = targetOf(targets[7].Path, []byte("other bytes"))
	res, err := l.with(kr, Config{}, testNow).Update(ctx, targets)
	if err != nil {
		t.Fatal(err)
	}
	held := map[string]bool{}
	for n, b := range l.bins {
		if b.raw != nil {
			held[n] = true
		}
	}
	if len(held) != 1 || !slices.Contains(res.Changed, slices.Collect(maps.Keys(held))[0]) {
		t.Fatalf("held after Update: %v, re-signed %v", held, res.Changed)
	}
	out := t.TempDir()
	placed := map[string]string{}
	if err := l.EachFile(func(rel string, data []byte) (string, error) {
		p := filepath.Join(out, filepath.Base(rel))
		placed[rel] = p
		return p, os.WriteFile(p, data, 0o644)
	}); err != nil {
		t.Fatal(err)
	}
	for n, b := range l.bins {
		if b.raw != nil {
			t.Errorf("%s: still held after EachFile placed it", n)
		}
		if held[n] && b.file != placed[MetadataDir+"/"+fmt.Sprintf("%d.%s.json", b.version, n)] {
			t.Errorf("%s: read back from %s", n, b.file)
		}
	}
	if err := l.Save(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(metaFilesOf(t, l), readDir(t, dir)); diff != "" {
		t.Errorf("metadata of record after Save (-Files +disk):\n%s", diff)
	}
}

// readDir reads the regular files of dir, by name.
func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = data
	}
	return m
}

// TestDigestsAndFile: Digests gives the sha256 of every file Files gives,
// without reading bins back, and File gives each file's bytes; after a
// re-sign, exactly the re-signed roles' files have other digests.
func TestDigestsAndFile(t *testing.T) {
	ctx := context.Background()
	_, kr, targets, dir := binRepo(t, 200)
	l, err := Load(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	files := filesOf(t, l)
	before := l.Digests()
	if len(before) != len(files) {
		t.Fatalf("Digests lists %d files, Files %d", len(before), len(files))
	}
	for name, data := range files {
		if before[name] != sha256.Sum256(data) {
			t.Errorf("%s: digest is not that of its bytes", name)
		}
		if got, err := l.File(name); err != nil || !bytes.Equal(got, data) {
			t.Errorf("File(%s): %v, bytes equal %v", name, err, bytes.Equal(got, data))
		}
	}
	if _, err := l.File(MetadataDir + "/no.such.json"); err == nil {
		t.Error("File of an unknown name: no error")
	}
	if _, err := new(Repo).File(MetadataDir + "/timestamp.json"); err == nil {
		t.Error("File of a Repo with no metadata: no error")
	}
	targets[3] = targetOf(targets[3].Path, []byte("changed"))
	res, err := l.with(kr, Config{}, testNow).Update(ctx, targets)
	if err != nil {
		t.Fatal(err)
	}
	var changed []string
	for name, sum := range l.Digests() {
		if old, ok := before[name]; !ok || old != sum {
			changed = append(changed, name)
		}
	}
	if len(changed) != len(res.Changed) {
		t.Errorf("changed digests %v, re-signed roles %v", changed, res.Changed)
	}
}
