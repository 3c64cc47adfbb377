package testpkgs

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

// ModTime is the fixed modification time Pack gives every entry, so the
// artifacts tests make do not depend on SOURCE_DATE_EPOCH.
var ModTime = time.Unix(1700000000, 0).UTC()

// ExpectFile is the file in each bad or warn case listing the codes of
// the problems lint must report for it, one per line.
const ExpectFile = "expect"

// Case is one package of testdata/bad or testdata/warn.
type Case struct {
	Name   string   // the case's directory name, e.g. "name-dot"
	Dir    string   // absolute path of the package source directory
	Expect []string // problem codes lint must report, from the expect file
}

// Root returns the absolute path of the top-level testdata directory.
func Root() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("testpkgs: cannot locate the source file")
	}
	root, err := filepath.Abs(filepath.Join(filepath.Dir(file), "..", "..", "testdata"))
	if err != nil {
		panic("testpkgs: " + err.Error())
	}
	return root
}

// Good returns the directories of the good example packages, sorted.
// Each packs, lints without errors and has every program accepted by
// the verifier.
func Good() []string {
	return packageDirs(filepath.Join(Root(), "packages"))
}

// Bad returns the bad packages, sorted by name: each has at least one
// error, and Expect lists the codes of the errors lint must report.
func Bad() []Case {
	return cases(filepath.Join(Root(), "bad"))
}

// Warn returns the packages that lint must accept with warnings only;
// Expect lists the codes of the warnings.
func Warn() []Case {
	return cases(filepath.Join(Root(), "warn"))
}

// Hostile returns the directory of the valid package whose README holds
// script, event handlers, javascript: links, iframes and styles that a
// catalogue must not let through.
func Hostile() string {
	return filepath.Join(Root(), "hostile", "readme-xss")
}

// Dir returns the directory of the good package dir (a directory name
// under testdata/packages, e.g. "ratelimiting-1.1.0").
func Dir(dir string) string {
	return filepath.Join(Root(), "packages", dir)
}

// Pack packs the package source directory dir into a new temporary
// directory with the fixed ModTime and returns the artifact's path. It
// fails the test when the package does not pack.
func Pack(t testing.TB, dir string) string {
	t.Helper()
	out, err := pkgfmt.Pack(context.Background(), dir, t.TempDir(), pkgfmt.PackOptions{ModTime: ModTime})
	if err != nil {
		t.Fatalf("pack %s: %v", dir, err)
	}
	return out
}

// Manifest reads and parses the manifest of the package source
// directory dir. It fails the test when the manifest cannot be read or
// decoded; problems are returned for the caller to judge.
func Manifest(t testing.TB, dir string) (*pkgfmt.Manifest, []pkgfmt.Problem) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, pkgfmt.ManifestFile))
	if err != nil {
		t.Fatalf("manifest: %v", err)
	}
	m, problems := pkgfmt.ParseManifest(data)
	if m == nil {
		t.Fatalf("manifest %s: cannot decode: %v", dir, problems)
	}
	return m, problems
}

// packageDirs returns the subdirectories of dir that hold a manifest.
func packageDirs(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var dirs []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(p, pkgfmt.ManifestFile)); err == nil {
			dirs = append(dirs, p)
		}
	}
	slices.Sort(dirs)
	return dirs
}

func cases(dir string) []Case {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var cs []Case
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(filepath.Join(p, ExpectFile))
		if err != nil {
			continue
		}
		cs = append(cs, Case{Name: e.Name(), Dir: p, Expect: parseExpect(data)})
	}
	slices.SortFunc(cs, func(a, b Case) int { return strings.Compare(a.Name, b.Name) })
	return cs
}

// parseExpect returns the codes of an expect file: one per line, blank
// lines and lines starting with '#' ignored.
func parseExpect(data []byte) []string {
	var codes []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		codes = append(codes, line)
	}
	return codes
}
