//go:build unix

package client

import (
	"io/fs"
	"os"
	"syscall"
)

// keyOf identifies the regular file at p by device, inode, size and
// modification time; false for anything else.
func keyOf(p string) (fileKey, bool) {
	fi, err := os.Stat(p)
	if err != nil {
		return fileKey{}, false
	}
	return keyOfInfo(fi)
}

func keyOfInfo(fi fs.FileInfo) (fileKey, bool) {
	if !fi.Mode().IsRegular() {
		return fileKey{}, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileKey{}, false
	}
	return fileKey{dev: uint64(st.Dev), ino: uint64(st.Ino), size: fi.Size(), mtime: fi.ModTime().UnixNano()}, true
}
