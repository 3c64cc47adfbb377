package pkgfmt

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ebpfrepo/ebpfrepo/bpfobj"
)

// Kinds of rejection by the safe readers. An [*EntryError] unwraps to one
// of them, so callers can test with errors.Is.
var (
	ErrPathTraversal  = errors.New("path escapes the package root")
	ErrAbsolutePath   = errors.New("absolute path")
	ErrBadPath        = errors.New("invalid path")
	ErrLink           = errors.New("link not allowed")
	ErrSpecialFile    = errors.New("special file not allowed")
	ErrDuplicate      = errors.New("duplicate entry")
	ErrTooManyEntries = errors.New("too many entries")
	ErrTooLarge       = bpfobj.ErrTooLarge // the same sentinel for files, archives and objects
	ErrTopLevel       = errors.New("bad top-level directory")
	ErrEntryOrder     = errors.New("entry before its parent directory")
	ErrFormat         = errors.New("unsupported or corrupt archive")
	ErrNoManifest     = errors.New("no " + ManifestFile)
)

// EntryError is a rejection of one entry of an artifact or source
// directory. Archive is what was opened; Entry is the entry's name as
// stored (empty when the archive as a whole is at fault). Err wraps one
// of the Err* kinds above together with the evidence.
type EntryError struct {
	Archive string
	Entry   string
	Err     error
}

func (e *EntryError) Error() string {
	if e.Entry == "" {
		return fmt.Sprintf("%s: %v", e.Archive, e.Err)
	}
	return fmt.Sprintf("%s: entry %q: %v", e.Archive, e.Entry, e.Err)
}

func (e *EntryError) Unwrap() error { return e.Err }

// ManifestError reports a manifest with errors. Problems holds every
// problem found, warnings included.
type ManifestError struct {
	Path     string // the directory or artifact the manifest came from
	Problems Problems
}

func (e *ManifestError) Error() string {
	var errs []string
	for _, p := range e.Problems.Errors() {
		errs = append(errs, p.String())
	}
	switch len(errs) {
	case 0:
		return fmt.Sprintf("%s: invalid manifest", e.Path)
	case 1:
		return fmt.Sprintf("%s: invalid manifest: %s", e.Path, errs[0])
	}
	return fmt.Sprintf("%s: invalid manifest: %d errors:\n\t%s", e.Path, len(errs), strings.Join(errs, "\n\t"))
}

// String formats a problem on one line for people, as every command
// prints it: "severity: package: file: field (program): message [code]",
// leaving out what is empty; continuation lines of a long message (a
// verifier log) are indented.
func (p Problem) String() string {
	parts := []string{string(p.Severity)}
	for _, s := range []string{p.Package, p.File} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	switch {
	case p.Field != "" && p.Program != "":
		parts = append(parts, p.Field+" ("+p.Program+")")
	case p.Field != "":
		parts = append(parts, p.Field)
	case p.Program != "":
		parts = append(parts, "program "+p.Program)
	}
	msg := strings.ReplaceAll(strings.TrimRight(p.Message, "\n"), "\n", "\n    ")
	s := strings.Join(parts, ": ") + ": " + msg
	if p.Code != "" {
		s += " [" + p.Code + "]"
	}
	return s
}

// Problems is a list of findings, errors and warnings mixed.
type Problems []Problem

// Errors returns the problems that are errors.
func (ps Problems) Errors() Problems { return ps.of(SeverityError) }

// Warnings returns the problems that are warnings.
func (ps Problems) Warnings() Problems { return ps.of(SeverityWarning) }

// HasErrors reports whether any problem is an error (not a warning).
func (ps Problems) HasErrors() bool {
	for _, p := range ps {
		if p.Severity == SeverityError {
			return true
		}
	}
	return false
}

func (ps Problems) of(s Severity) Problems {
	var out Problems
	for _, p := range ps {
		if p.Severity == s {
			out = append(out, p)
		}
	}
	return out
}
