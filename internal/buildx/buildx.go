package buildx

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
)

// Parallel runs f(0) … f(n-1) on one worker per CPU and returns the first
// error; once a call fails, or ctx is done, the calls not yet started are
// skipped.
func Parallel(ctx context.Context, n int, f func(i int) error) error {
	var (
		next  atomic.Int64
		once  sync.Once
		first error
		wg    sync.WaitGroup
	)
	for range min(runtime.NumCPU(), max(n, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				err := ctx.Err()
				if err == nil {
					err = f(i)
				}
				if err != nil {
					once.Do(func() { first = err })
					next.Store(int64(n))
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

var (
	programOnce sync.Once
	programHash string
)

// ProgramHash is the sha256 (hex) of the running executable: what a cache
// of derived output (index files, catalogue pages) is keyed by besides its
// inputs, so that a different ebpfrepo binary never reuses what an older
// one produced. When the executable cannot be read it is a random value,
// so that such caches are never reused.
func ProgramHash() string {
	programOnce.Do(func() {
		h := sha256.New()
		exe, err := os.Executable()
		if err == nil {
			var f *os.File
			if f, err = os.Open(exe); err == nil {
				_, err = io.Copy(h, f)
				f.Close()
			}
		}
		if err != nil {
			var nonce [16]byte
			_, _ = rand.Read(nonce[:])
			h.Reset()
			h.Write(nonce[:])
		}
		programHash = hex.EncodeToString(h.Sum(nil))
	})
	return programHash
}
