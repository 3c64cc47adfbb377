package gen

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

// Template is a real example package the generator copies: its manifest
// (programs, license, platforms, kernel and l3afd fields) and its files
// other than the manifest and the README (the objects, and whatever else
// the example ships).
type Template struct {
	Base     string          // the example's package name, e.g. "ratelimiting"
	Dir      string          // where it was read from, for messages
	Manifest pkgfmt.Manifest // as the example declares it
	Files    []pkgfmt.File   // sorted by Path; never the manifest or the README
}

// size is the number of bytes of the template's files.
func (t *Template) size() int {
	n := 0
	for _, f := range t.Files {
		n += len(f.Data)
	}
	return n
}

// CoreObject is the object the fallback template uses, relative to the
// module root: always present, as pkgfmt's tests need it.
const CoreObject = "bpfobj/testdata/verifier/core.bpf.o"

// LoadTemplates reads the example packages under root/testdata/packages
// (each a source directory with a valid manifest whose objects are
// present and whose artifact is a .tar.gz) and adds the fallback
// template built on root/bpfobj/testdata/verifier/core.bpf.o. Examples
// that do not qualify are skipped; skipped lists them with the reason.
// It fails only when not even the fallback can be read.
func LoadTemplates(ctx context.Context, root string) (ts []Template, skipped []string, err error) {
	dirs, _ := filepath.Glob(filepath.Join(root, "testdata", "packages", "*", pkgfmt.ManifestFile))
	slices.Sort(dirs)
	for _, mf := range dirs {
		dir := filepath.Dir(mf)
		t, err := loadTemplate(ctx, dir)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s: %v", dir, err))
			continue
		}
		ts = append(ts, *t)
	}
	core, err := coreTemplate(root)
	if err != nil {
		return nil, skipped, err
	}
	return append(ts, *core), skipped, nil
}

func loadTemplate(ctx context.Context, dir string) (*Template, error) {
	c, err := pkgfmt.OpenDir(ctx, dir, pkgfmt.Limits{})
	if err != nil {
		return nil, err
	}
	m, probs := parseManifest(c)
	if m != nil {
		probs = append(probs, pkgfmt.CheckContents(m, c)...)
	}
	for _, p := range probs {
		// The generator writes its own README.
		if p.Severity == pkgfmt.SeverityError && p.Field != "readme" {
			return nil, fmt.Errorf("manifest: %s: %s", p.Field, p.Message)
		}
	}
	if pkgfmt.ArtifactFormat(m.Artifact) != ".tar.gz" {
		return nil, errors.New("artifact is not a .tar.gz")
	}
	t := &Template{Base: m.Name, Dir: dir, Manifest: *m}
	for _, f := range c.Files {
		switch {
		case f.Path == pkgfmt.ManifestFile, f.Path == m.Readme,
			strings.HasSuffix(f.Path, ".tar.gz"), strings.HasSuffix(f.Path, ".zip"):
			continue
		}
		t.Files = append(t.Files, f)
	}
	return t, nil
}

// coreTemplate is a kprobe package around the CO-RE verifier fixture.
func coreTemplate(root string) (*Template, error) {
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(CoreObject)))
	if err != nil {
		return nil, fmt.Errorf("fallback template: %w (run from the module root, or pass its path)", err)
	}
	progs := []pkgfmt.Program{}
	for _, n := range []string{"core_pid", "core_guarded", "core_broken"} {
		progs = append(progs, pkgfmt.Program{Name: n, Object: "core.bpf.o", Type: "kprobe", Chaining: pkgfmt.ChainingNone})
	}
	return &Template{
		Base: "coreprobe",
		Dir:  CoreObject,
		Manifest: pkgfmt.Manifest{
			Name: "coreprobe", License: "GPL-2.0-only", Keywords: []string{"kprobe", "core"},
			Artifact: "l3af_coreprobe.tar.gz", Platforms: []string{"jammy", "noble"}, Programs: progs,
		},
		Files: []pkgfmt.File{{Path: "core.bpf.o", Mode: 0o644, Data: data}},
	}, nil
}

// FindRoot returns the module root: dir or the nearest parent holding
// go.mod.
func FindRoot(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod in %s or its parents: run from the ebpfrepo module", dir)
		}
		d = parent
	}
}

// parseManifest parses the manifest of c.
func parseManifest(c *pkgfmt.Contents) (*pkgfmt.Manifest, []pkgfmt.Problem) {
	f, ok := c.File(pkgfmt.ManifestFile)
	if !ok {
		return nil, []pkgfmt.Problem{{Severity: pkgfmt.SeverityError, File: pkgfmt.ManifestFile, Code: "manifest.missing", Message: "no manifest"}}
	}
	return pkgfmt.ParseManifest(f.Data)
}
