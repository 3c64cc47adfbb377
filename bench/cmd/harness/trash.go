package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
)

// Deleting a tree of 150,000 files slows this machine's file system for
// minutes after: its root is ext4 mounted with discard, so every deletion
// TRIMs the blocks it frees, and the sys time of the same cold build went
// from 9.6 to 42.6 s over four consecutive cold runs that each deleted
// the previous output (2026-12-03, two binaries interleaved: the drift,
// not the binaries). What the measurements make and throw away — the
// outputs and caches before each cold build, the copy of a CI restore —
// is moved aside instead (a rename), and the trash is emptied once every
// figure is taken (and at the start, after an interrupted run).

// trashDir is where discarded trees wait under the work directory out.
func trashDir(out string) string { return filepath.Join(out, "trash") }

var trashSeq atomic.Int64

// discard moves each existing path into out's trash.
func discard(out string, paths ...string) error {
	if err := os.MkdirAll(trashDir(out), 0o755); err != nil {
		return err
	}
	for _, p := range paths {
		if _, err := os.Lstat(p); os.IsNotExist(err) {
			continue
		}
		to := filepath.Join(trashDir(out), fmt.Sprintf("%d-%d-%s", os.Getpid(), trashSeq.Add(1), filepath.Base(p)))
		if err := os.Rename(p, to); err != nil {
			// Another file system: delete it now.
			if err := os.RemoveAll(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// emptyTrash deletes what discard moved aside.
func emptyTrash(out string) {
	logf("emptying %s", trashDir(out))
	os.RemoveAll(trashDir(out))
}
