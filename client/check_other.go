//go:build !unix

package client

// keyOf is not available here: every file is read through the fetcher.
func keyOf(p string) (fileKey, bool) { return fileKey{}, false }
