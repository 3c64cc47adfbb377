package client

import (
	"errors"
	"fmt"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// ErrVerification is matched, with errors.Is, by every failure to verify
// what the repository served: a signature threshold not met, a hash or
// length that differs, expired or rolled-back metadata, the index and the
// signed target information disagreeing, a trusted root that is not the
// one pinned. Callers test for it instead of importing go-tuf's error
// types; errors.As still reaches the underlying error for detail.
var ErrVerification = errors.New("verification failed")

// VerificationError is a verification failure: it matches
// ErrVerification and unwraps to the error that says what failed.
type VerificationError struct{ Err error }

func (e *VerificationError) Error() string   { return e.Err.Error() }
func (e *VerificationError) Unwrap() []error { return []error{e.Err, ErrVerification} }

// verification marks err as a verification failure when go-tuf reports
// one: any error of the repository's state (signatures, versions, expiry,
// hashes) and a download longer than its signed length. Other errors
// (network, cache, context) pass unchanged.
func verification(err error) error {
	if err == nil || errors.Is(err, ErrVerification) {
		return err
	}
	if errors.Is(err, &metadata.ErrRepository{}) || errors.Is(err, &metadata.ErrDownloadLengthMismatch{}) {
		return &VerificationError{Err: err}
	}
	return err
}

// RootPinError reports a trusted root whose sha256 is not the one the
// caller pinned (Options.RootSHA256). It matches ErrVerification.
type RootPinError struct {
	Got, Want string // lowercase hex
}

func (e *RootPinError) Error() string {
	return fmt.Sprintf("trusted root: sha256 is %s, want %s: this is not the root you pinned", e.Got, e.Want)
}

func (e *RootPinError) Is(target error) bool { return target == ErrVerification }

// NotFoundError reports a target (package index or artifact) that the
// signed metadata does not list.
type NotFoundError struct {
	Package string // set when the lookup was for a package
	Target  string // TUF target path
	Err     error
	// Suggestion is a published package the name is probably a typo of.
	Suggestion string
}

func (e *NotFoundError) Error() string {
	if e.Package != "" && e.Suggestion != "" {
		return fmt.Sprintf("package %s: not in the repository (did you mean %q?)", e.Package, e.Suggestion)
	}
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

// Is makes a MismatchError match ErrVerification.
func (e *MismatchError) Is(target error) bool { return target == ErrVerification }

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
