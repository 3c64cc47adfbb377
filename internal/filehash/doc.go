// Package filehash is the one way this module hashes a file on disk:
// sha256 through a pooled buffer (io.Copy from an *os.File allocates 32
// KiB per call, which at tens of thousands of files was most of a check's
// garbage).
package filehash
