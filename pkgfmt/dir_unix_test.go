//go:build unix

package pkgfmt

import "syscall"

func mkfifo(path string) error { return syscall.Mkfifo(path, 0o644) }

// mkCharDevice creates /dev/null's twin (1,3) at path; it needs CAP_MKNOD.
func mkCharDevice(path string) error {
	return syscall.Mknod(path, syscall.S_IFCHR|0o600, 1<<8|3)
}
