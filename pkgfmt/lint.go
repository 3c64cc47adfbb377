package pkgfmt

import (
	"context"
	"errors"
)

// LintOptions configures Describe and LintPath. The zero value means
// defaults: default limits, no verifier run, no offline CO-RE checks.
type LintOptions struct {
	Limits    Limits
	Verify    bool     // load every program into the running kernel's verifier
	KernelBTF []string // kernel BTF files to check CO-RE relocations against
}

// MaxReadmeSize bounds the README text carried in a Description.
const MaxReadmeSize = 256 << 10

// Describe validates the contents of one package and returns its
// description: manifest, inspection report, and every problem found.
// (STUB: being implemented.)
func Describe(ctx context.Context, c *Contents, opts LintOptions) *Description {
	m, probs := ParseManifestFile(c)
	d := &Description{Problems: probs}
	if m != nil {
		d.Manifest = *m
	}
	return d
}

// ParseManifestFile is a placeholder helper of the stub.
func ParseManifestFile(c *Contents) (*Manifest, []Problem) {
	f, ok := c.File(ManifestFile)
	if !ok {
		return nil, []Problem{{Severity: SeverityError, File: ManifestFile, Code: "manifest.missing", Message: "no manifest"}}
	}
	return ParseManifest(f.Data)
}

// LintPath opens an artifact (.tar.gz, .zip) or a source directory and
// describes it. The error is for a package that cannot be read at all.
// (STUB: being implemented.)
func LintPath(ctx context.Context, path string, opts LintOptions) (*Description, error) {
	return nil, errors.New("lint: not implemented yet")
}

// HasErrors reports whether any problem is an error.
func (d *Description) HasErrors() bool { return anyError(d.Problems) }

// Errors returns the problems that are errors.
func (d *Description) Errors() []Problem {
	var out []Problem
	for _, p := range d.Problems {
		if p.Severity == SeverityError {
			out = append(out, p)
		}
	}
	return out
}
