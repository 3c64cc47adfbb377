package bpfobj

import "errors"

// MaxObjectSize bounds the ELF object Parse accepts: the size limit of one
// file in a package.
const MaxObjectSize = 64 << 20 // = pkgfmt.DefaultMaxFileSize (a test keeps them equal)

// ErrTooLarge is wrapped by the error of an object over MaxObjectSize.
var ErrTooLarge = errors.New("too large")
