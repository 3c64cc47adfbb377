package filehash

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"sync"
)

var bufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// SHA256 returns the hex sha256 of the file at path and its length.
func SHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	return SHA256File(f)
}

// SHA256File is SHA256 for a file the caller has open, read from its
// current offset to its end.
func SHA256File(f *os.File) (string, int64, error) {
	h := sha256.New()
	buf := bufs.Get().(*[]byte)
	defer bufs.Put(buf)
	n, err := io.CopyBuffer(h, struct{ io.Reader }{f}, *buf)
	if err != nil {
		return "", n, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
