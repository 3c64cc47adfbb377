package floor

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Suffixes are the archive names Find collects by default: artifacts and
// Helm chart tarballs.
var Suffixes = []string{".tar.gz", ".tgz"}

// Result is what one pass over the archives did.
type Result struct {
	Files        int           `json:"files"`
	Bytes        int64         `json:"bytes"`        // compressed, as read
	Uncompressed int64         `json:"uncompressed"` // bytes of every file inside
	Workers      int           `json:"workers"`
	Elapsed      time.Duration `json:"elapsed_ns"` // listing included
}

// Options configure Run. The zero value means defaults.
type Options struct {
	Workers  int      // 0 means runtime.NumCPU()
	Suffixes []string // nil means Suffixes
}

// Run lists the archives under the roots (files ending in one of the
// suffixes; hidden directories such as .cache are skipped) and digests
// every one of them.
func Run(ctx context.Context, roots []string, opts Options) (Result, error) {
	start := time.Now()
	if opts.Workers <= 0 {
		opts.Workers = runtime.NumCPU()
	}
	if opts.Suffixes == nil {
		opts.Suffixes = Suffixes
	}
	var paths []string
	for _, r := range roots {
		ps, err := Find(r, opts.Suffixes)
		if err != nil {
			return Result{}, err
		}
		paths = append(paths, ps...)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		next, bytes, unz atomic.Int64
		wg               sync.WaitGroup
	)
	for range opts.Workers {
		wg.Go(func() {
			d := NewDigester()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(paths) || ctx.Err() != nil {
					return
				}
				_, n, u, err := d.File(paths[i])
				if err != nil {
					cancel(err)
					return
				}
				bytes.Add(n)
				unz.Add(u)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return Result{}, err
	}
	return Result{Files: len(paths), Bytes: bytes.Load(), Uncompressed: unz.Load(), Workers: opts.Workers, Elapsed: time.Since(start)}, nil
}

// Find returns the files under root whose names end in one of suffixes,
// sorted, skipping directories whose names start with a dot.
func Find(root string, suffixes []string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && slices.ContainsFunc(suffixes, func(s string) bool { return strings.HasSuffix(d.Name(), s) }) {
			out = append(out, p)
		}
		return nil
	})
	slices.Sort(out)
	return out, err
}

// Digester hashes and unpacks archives, reusing its buffers; one per
// goroutine.
type Digester struct {
	br *bufio.Reader
	zr *gzip.Reader
}

// NewDigester returns a Digester.
func NewDigester() *Digester { return &Digester{br: bufio.NewReaderSize(nil, 64<<10)} }

// File digests the archive at path: see Reader.
func (d *Digester) File(path string) (sum [sha256.Size]byte, n, uncompressed int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return sum, 0, 0, err
	}
	defer f.Close()
	sum, n, uncompressed, err = d.Reader(f)
	if err != nil {
		err = fmt.Errorf("%s: %w", path, err)
	}
	return sum, n, uncompressed, err
}

// Reader reads a .tar.gz from r once: every byte goes through sha256
// and gunzip, and every tar entry is read to its end. It returns the
// sha256 of the compressed bytes, their number and the number of bytes
// of the files inside.
func (d *Digester) Reader(r io.Reader) (sum [sha256.Size]byte, n, uncompressed int64, err error) {
	h := sha256.New()
	cr := &countReader{r: io.TeeReader(r, h)}
	d.br.Reset(cr)
	if d.zr == nil {
		d.zr, err = gzip.NewReader(d.br)
	} else {
		err = d.zr.Reset(d.br)
	}
	if err != nil {
		return sum, 0, 0, err
	}
	tr := tar.NewReader(d.zr)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return sum, 0, 0, err
		}
		if hdr.Typeflag == tar.TypeReg {
			m, err := io.Copy(io.Discard, tr)
			if err != nil {
				return sum, 0, 0, err
			}
			uncompressed += m
		}
	}
	// Trailing bytes (tar padding, gzip trailer) count towards the hash.
	if _, err := io.Copy(io.Discard, d.zr); err != nil {
		return sum, 0, 0, err
	}
	if _, err := io.Copy(io.Discard, d.br); err != nil {
		return sum, 0, 0, err
	}
	copy(sum[:], h.Sum(nil))
	return sum, cr.n, uncompressed, nil
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
