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

// dirMaker creates directories, remembering those made so that each is
// made once; safe for concurrent use.
type dirMaker struct{ made sync.Map }

func (m *dirMaker) mkdirAll(dir string) error {
	if _, ok := m.made.Load(dir); ok {
		return nil
	}
	// The parent is usually known to exist: one mkdir call, no stat.
	parent := filepath.Dir(dir)
	if _, ok := m.made.Load(parent); !ok && parent != dir {
		if err := m.mkdirAll(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
		return err
	}
	m.made.Store(dir, true)
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
