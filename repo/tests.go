package repo

import (
	"fmt"
	"strings"

	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

// CodeTestsRequired refuses a package without test vectors in a
// repository whose ebpfrepo.toml says require_tests = true.
const CodeTestsRequired = "tests.required"

// policyProblems are the repository's own requirements of a package,
// beyond what lint finds: driver classes (windows.require_hvci) and test
// vectors (require_tests).
func (r *Repo) policyProblems(label, name string, d *pkgfmt.Description) pkgfmt.Problems {
	ps := r.hvciProblems(label, name, d)
	return append(ps, r.testsProblems(label, d)...)
}

// testsProblems refuses a package with no test vectors when the
// repository requires them. A Windows-only package is exempt: vectors run
// through the Linux kernel's BPF_PROG_RUN.
func (r *Repo) testsProblems(label string, d *pkgfmt.Description) pkgfmt.Problems {
	if !r.Config.RequireTests || d.TestVectors > 0 || windowsOnly(d.Manifest.Platforms) {
		return nil
	}
	return pkgfmt.Problems{{Severity: pkgfmt.SeverityError, Package: label, File: pkgfmt.ManifestFile, Field: "tests", Code: CodeTestsRequired,
		Message: fmt.Sprintf("the package has no test vectors, and %s requires them (require_tests = true): add [[tests]] (docs/package-format.md, \"Test vectors\")", "ebpfrepo.toml")}}
}

func windowsOnly(platforms []string) bool {
	for _, p := range platforms {
		if !strings.EqualFold(p, "Windows") {
			return false
		}
	}
	return len(platforms) > 0
}
