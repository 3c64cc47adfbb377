//go:build unix

package pkgfmt

import (
	"io/fs"
	"syscall"
)

// linkCount returns the number of names (hard links) a file has, or 1
// when the file system does not say.
func linkCount(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink > 0 {
		return uint64(st.Nlink)
	}
	return 1
}
