//go:build unix

package outtree

import (
	"fmt"
	"os"
	"syscall"
)

// treeID identifies a directory across renames: its device and inode.
func treeID(dir string) (string, bool) {
	fi, err := os.Stat(dir)
	if err != nil {
		return "", false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", false
	}
	return fmt.Sprintf("%d-%d", st.Dev, st.Ino), true
}
