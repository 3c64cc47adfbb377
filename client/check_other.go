//go:build !unix

package client

import "io/fs"

// keyOf is not available here: every file is read through the fetcher.
func keyOf(p string) (fileKey, bool) { return fileKey{}, false }

func keyOfInfo(fs.FileInfo) (fileKey, bool) { return fileKey{}, false }
