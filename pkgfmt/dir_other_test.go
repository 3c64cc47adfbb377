//go:build !unix

package pkgfmt

import "errors"

func mkfifo(string) error       { return errors.ErrUnsupported }
func mkCharDevice(string) error { return errors.ErrUnsupported }
