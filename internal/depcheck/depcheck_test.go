package depcheck

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const module = "github.com/ebpfrepo/ebpfrepo/"

// allowed lists, for every package of the module, the module packages its
// non-test files may import. Dependencies point one way: the leaves
// (layout, bpfobj, the internal helpers) know nothing of the rest; pkgfmt
// is the package format over bpfobj; index the index model over pkgfmt;
// tufrepo, site and client build on index; repo composes the maintainer
// side; the commands are thin over repo and client. A new edge is a design
// decision: add it here, and to docs/architecture.md, on purpose.
var allowed = map[string][]string{
	"layout":                     nil,
	"bpfobj":                     nil,
	"authenticode":               nil,
	"kernelsig":                  nil,
	"progtest":                   {"bpfobj"},
	"internal/pemcert":           nil,
	"internal/atomicfile":        nil,
	"internal/buildx":            nil,
	"internal/suggest":           nil,
	"internal/pkgpattern":        nil,
	"internal/sigstoretest":      nil,
	"keyless":                    {"index", "internal/pkgpattern"},
	"pkgfmt":                     {"authenticode", "bpfobj", "internal/suggest", "kernelsig", "progtest"},
	"index":                      {"internal/suggest", "layout", "pkgfmt"},
	"tufrepo":                    {"index", "internal/atomicfile", "internal/pkgpattern", "layout"},
	"site":                       {"authenticode", "bpfobj", "index", "internal/buildx", "layout", "pkgfmt", "progtest"},
	"client":                     {"authenticode", "index", "internal/atomicfile", "internal/filehash", "internal/suggest", "keyless", "layout", "pkgfmt"},
	"client/clienttest":          {"index", "layout", "pkgfmt"},
	"internal/buildcache":        {"index", "internal/buildx", "pkgfmt"},
	"internal/outtree":           {"internal/atomicfile", "internal/buildcache", "internal/filehash", "layout"},
	"internal/filehash":          nil,
	"internal/s3test":            {},
	"publish":                    {"internal/filehash", "layout"},
	"publish/s3store":            {"publish"},
	"internal/testpkgs":          {"pkgfmt"},
	"repo":                       {"authenticode", "bpfobj", "client", "index", "internal/atomicfile", "internal/buildcache", "internal/buildx", "internal/outtree", "internal/pemcert", "internal/pkgpattern", "keyless", "layout", "pkgfmt", "site", "tufrepo"},
	"author":                     {"client", "layout", "pkgfmt", "tufrepo"},
	"cmd/ebpfrepo":               {"authenticode", "author", "bpfobj", "client", "index", "internal/atomicfile", "internal/pemcert", "layout", "pkgfmt", "progtest", "publish", "publish/s3store", "repo", "tufrepo"},
	"cmd/tuf-conformance-client": {"client"},
	"e2e":                        {"internal/testpkgs", "repo"},
	"internal/depcheck":          nil,
	"internal/kerneltest":        nil,
	"scripts/mkvectors":          nil,
	"scripts/testsigstore":       {"internal/sigstoretest"},
}

// benchAllowed are the packages of the scale harness: they may use the
// libraries, never the other way round.
var benchAllowed = []string{"bpfobj", "client", "index", "layout", "pkgfmt", "repo", "tufrepo"}

func TestImportGraph(t *testing.T) {
	root := filepath.Join("..", "..")
	got := imports(t, root)
	for pkg, deps := range got {
		if strings.HasPrefix(pkg, "bench/") {
			for _, d := range deps {
				if !strings.HasPrefix(d, "bench/") && !slices.Contains(benchAllowed, d) {
					t.Errorf("%s imports %s: not allowed for the bench harness", pkg, d)
				}
			}
			continue
		}
		want, ok := allowed[pkg]
		if !ok {
			t.Errorf("package %s is not in the allowed import graph: add it to depcheck_test.go and docs/architecture.md", pkg)
			continue
		}
		for _, d := range deps {
			if !slices.Contains(want, d) {
				t.Errorf("%s imports %s: a new dependency edge; if it is meant, add it to depcheck_test.go and docs/architecture.md", pkg, d)
			}
		}
	}
	for pkg := range allowed {
		if _, ok := got[pkg]; !ok {
			t.Errorf("allowed lists %s, which no longer exists", pkg)
		}
	}
	for _, leaf := range []string{"layout", "bpfobj"} {
		if diff := cmp.Diff([]string(nil), got[leaf]); diff != "" {
			t.Errorf("%s must stay a leaf (-want +got):\n%s", leaf, diff)
		}
	}
}

// imports parses the non-test Go files of every package under root and
// returns package → the module packages it imports (sorted). Directories
// Go ignores (testdata, ".x", "_x") and the bench's generated output are
// skipped.
func imports(t *testing.T, root string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || p == filepath.Join(root, "bench", "out")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(rel)
		if _, ok := out[pkg]; !ok {
			out[pkg] = nil
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if dep, ok := strings.CutPrefix(path, module); ok && !slices.Contains(out[pkg], dep) {
				out[pkg] = append(out[pkg], dep)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k := range out {
		slices.Sort(out[k])
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found from %s: %v", root, err)
	}
	return out
}
