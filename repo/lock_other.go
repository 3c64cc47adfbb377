//go:build !unix

package repo

import (
	"errors"
	"fmt"
	"os"
)

// ErrLocked is returned when another ebpfrepo process holds the
// repository's lock.
var ErrLocked = errors.New("repository is locked by another ebpfrepo process")

// lock creates REPO_DIR/.lock exclusively (no flock on this system: a
// crashed process leaves the file behind; remove it by hand).
func (r *Repo) lock() (unlock func(), err error) {
	p := r.paths().Lock()
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600)
	if err != nil {
		if os.IsExist(err) {
			return nil, fmt.Errorf("%s: %w; if none is running, remove %s", r.Dir, ErrLocked, p)
		}
		return nil, err
	}
	return func() { f.Close(); os.Remove(p) }, nil
}
