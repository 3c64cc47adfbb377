//go:build unix

package repo

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ErrLocked is returned when another ebpfrepo process holds the
// repository's lock.
var ErrLocked = errors.New("repository is locked by another ebpfrepo process")

// lock takes the exclusive lock on REPO_DIR/.lock without waiting.
func (r *Repo) lock() (unlock func(), err error) {
	p := r.paths().Lock()
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w (a build, add, timestamp, yank or key rotation is running); wait for it to finish", r.Dir, ErrLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
