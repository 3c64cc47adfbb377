package pkgfmt

import (
	"errors"
	"fmt"
	"strings"
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
	ErrTooLarge       = errors.New("too large")
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
	Problems []Problem
}

func (e *ManifestError) Error() string {
	var errs []string
	for _, p := range e.Problems {
		if p.Severity == SeverityError {
			errs = append(errs, problemText(p))
		}
	}
	switch len(errs) {
	case 0:
		return fmt.Sprintf("%s: invalid manifest", e.Path)
	case 1:
		return fmt.Sprintf("%s: invalid manifest: %s", e.Path, errs[0])
	}
	return fmt.Sprintf("%s: invalid manifest: %d errors:\n\t%s", e.Path, len(errs), strings.Join(errs, "\n\t"))
}

// problemText formats a problem as "file: field: message" for people.
func problemText(p Problem) string {
	var b strings.Builder
	if p.Package != "" {
		b.WriteString(p.Package)
		b.WriteString(": ")
	}
	if p.File != "" {
		b.WriteString(p.File)
		b.WriteString(": ")
	}
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	} else if p.Program != "" {
		b.WriteString("program ")
		b.WriteString(p.Program)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// anyError reports whether any problem is an error (not a warning).
func anyError(ps []Problem) bool {
	for _, p := range ps {
		if p.Severity == SeverityError {
			return true
		}
	}
	return false
}
