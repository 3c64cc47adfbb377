package client

import (
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/ebpfrepo/ebpfrepo/internal/filehash"
)

// FileHashes remembers the sha256 of local files by device, inode, size
// and modification time — what every hard link of one file shares — so
// that a file read once, under any of its names, is not read again while
// it is unchanged. ebpfrepo build notes the artifacts it reads under
// packages/, which its output tree links, and gives them to the check it
// runs over that tree (CheckOptions.Hashes). Safe for concurrent use;
// make one with NewFileHashes.
type FileHashes struct {
	mu   sync.Mutex
	sums map[fileKey]string
}

type fileKey struct {
	dev, ino uint64
	size     int64
	mtime    int64
}

// NewFileHashes returns an empty FileHashes.
func NewFileHashes() *FileHashes { return &FileHashes{sums: map[fileKey]string{}} }

// racyWindow: a file modified less than this before it was read is not
// remembered, because a later write within the file system's timestamp
// granularity could leave its size and modification time as they were
// (git's "racily clean" index entries). Such a file is read again.
const racyWindow = time.Second

// Note records sum as the sha256 of the bytes of the file fi describes
// (the Stat of the open file, taken before reading it), which the caller
// started reading at readAt. Files modified within racyWindow before
// readAt, and files that are not regular, are not recorded.
func (h *FileHashes) Note(fi fs.FileInfo, readAt time.Time, sum string) {
	k, ok := keyOfInfo(fi)
	if !ok || !fi.ModTime().Before(readAt.Add(-racyWindow)) {
		return
	}
	h.put(k, sum)
}

// Hash reads the file at path and returns its sha256, noting it as Note
// does.
func (h *FileHashes) Hash(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	start := time.Now()
	sum, n, err := filehash.SHA256File(f)
	if err != nil {
		return "", err
	}
	if n == fi.Size() {
		h.Note(fi, start, sum)
	}
	return sum, nil
}

func (h *FileHashes) put(k fileKey, sum string) {
	h.mu.Lock()
	h.sums[k] = sum
	h.mu.Unlock()
}

func (h *FileHashes) get(k fileKey) (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	sum, ok := h.sums[k]
	return sum, ok
}
