//go:build !linux

package outtree

import "errors"

// exchange is not available here: Swap renames instead.
func exchange(a, b string) error { return errors.New("no atomic exchange on this system") }
