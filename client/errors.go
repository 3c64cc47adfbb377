package client

import "fmt"

// NotFoundError reports a target (package index or artifact) that the
// signed metadata does not list.
type NotFoundError struct {
	Package string // set when the lookup was for a package
	Target  string // TUF target path
	Err     error
}

func (e *NotFoundError) Error() string {
	if e.Package != "" {
		return fmt.Sprintf("package %s: not in the repository (no signed target %s)", e.Package, e.Target)
	}
	return fmt.Sprintf("target %s: not in the signed metadata", e.Target)
}

func (e *NotFoundError) Unwrap() error { return e.Err }

// MismatchError reports that the package index and the signed TUF target
// information disagree about an artifact: the index is signed too, so
// this means the repository is inconsistent or tampered with. It carries
// both values as evidence.
type MismatchError struct {
	Target string
	Field  string // "length" or "sha256"
	Index  string // what the package index says
	Signed string // what the TUF targets metadata says (or what was read)
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("target %s: %s mismatch: index says %s, signed metadata says %s", e.Target, e.Field, e.Index, e.Signed)
}

// SchemaError reports an index file this client cannot read.
type SchemaError struct {
	Target    string
	Schema    int
	Supported int
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("index %s: schema %d is not supported (this client reads up to %d): upgrade ebpfrepo", e.Target, e.Schema, e.Supported)
}

// IndexError reports an index file that is signed but malformed or
// unsafe: a bad path component, a name that does not match, invalid JSON.
type IndexError struct {
	Target string
	Field  string
	Msg    string
	Err    error
}

func (e *IndexError) Error() string {
	s := "index " + e.Target
	if e.Field != "" {
		s += ": " + e.Field
	}
	s += ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *IndexError) Unwrap() error { return e.Err }
