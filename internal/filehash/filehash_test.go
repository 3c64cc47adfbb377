package filehash

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

func TestSHA256(t *testing.T) {
	for _, size := range []int{0, 1, 64 << 10, 64<<10 + 1, 300 << 10} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i * 7)
		}
		p := filepath.Join(t.TempDir(), "f")
		os.WriteFile(p, data, 0o644)
		sum, n, err := SHA256(p)
		want := sha256.Sum256(data)
		if err != nil || n != int64(size) || sum != hex.EncodeToString(want[:]) {
			t.Errorf("size %d: %s %d %v", size, sum, n, err)
		}
	}
	if _, _, err := SHA256(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing file: no error")
	}
}
