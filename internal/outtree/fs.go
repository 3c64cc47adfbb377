package outtree

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// IOWorkers is the number of goroutines for file-system metadata work
// (mkdir, link, unlink), which waits on the disk more than on the CPU.
func IOWorkers() int { return 4 * runtime.NumCPU() }

// RemoveAll removes a tree, its subtrees two levels down one per
// CPU at a time: removing a large output is bound by unlink calls.
func RemoveAll(dir string) error {
	var subs []string
	tops, _ := os.ReadDir(dir)
	for _, t := range tops {
		p := filepath.Join(dir, t.Name())
		if !t.IsDir() {
			subs = append(subs, p)
			continue
		}
		kids, _ := os.ReadDir(p)
		for _, k := range kids {
			subs = append(subs, filepath.Join(p, k.Name()))
		}
	}
	work := make(chan string)
	var wg sync.WaitGroup
	for range IOWorkers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				os.RemoveAll(p)
			}
		}()
	}
	for _, p := range subs {
		work <- p
	}
	close(work)
	wg.Wait()
	return os.RemoveAll(dir)
}

// dirMaker creates directories under root (which exists), remembering
// the last few thousand made so that one is rarely made twice; safe for
// concurrent use. The record is bounded: a build places its files a
// package at a time, so the directories it is still making are the
// recent ones, and remembering every directory of a cold build (28,000
// at 10,000 versions) was 9 MB, the largest part of its peak heap. A
// directory forgotten and asked for again costs one mkdir (EEXIST).
type dirMaker struct {
	root string
	mu   sync.Mutex
	made map[string]struct{}
}

// maxDirsMade bounds dirMaker's record.
const maxDirsMade = 4096

func (m *dirMaker) known(dir string) bool {
	if dir == m.root {
		return true
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.made[dir]
	return ok
}

func (m *dirMaker) remember(dir string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.made == nil || len(m.made) >= maxDirsMade {
		m.made = make(map[string]struct{}, maxDirsMade)
	}
	m.made[dir] = struct{}{}
}

// forget drops the record.
func (m *dirMaker) forget() {
	m.mu.Lock()
	m.made = nil
	m.mu.Unlock()
}

func (m *dirMaker) mkdirAll(dir string) error {
	if m.known(dir) {
		return nil
	}
	// The parent is usually known to exist: one mkdir call, no stat.
	if parent := filepath.Dir(dir); parent != dir && !m.known(parent) {
		if err := m.mkdirAll(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
		return err
	}
	m.remember(dir)
	return nil
}

// Linker places the bytes of one source file at several paths: hard links
// to the source when the file system allows, else one copy and hard links
// to it, so artifact bytes are never copied twice.
type Linker struct {
	src   string
	first string // the first placed copy, when the source could not be linked
	dirs  *dirMaker
}

func (l *Linker) place(dst string) error {
	if err := l.dirs.mkdirAll(filepath.Dir(dst)); err != nil {
		return err
	}
	if l.first == "" {
		if err := os.Link(l.src, dst); err == nil {
			return nil
		}
		if err := copyFile(l.src, dst); err != nil {
			return err
		}
		l.first = dst
		return nil
	}
	if err := os.Link(l.first, dst); err == nil {
		return nil
	}
	return copyFile(l.first, dst)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}
