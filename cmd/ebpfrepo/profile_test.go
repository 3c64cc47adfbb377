package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// TestPeakProfile: EBPFREPO_MEMPROFILE_PEAK's sampler writes a heap
// profile once the live heap rises, taken after the allocation that
// raised it (its function is in the profile), and stops when told.
func TestPeakProfile(t *testing.T) {
	peakProfile("", time.Millisecond)() // no file: nothing to start or stop
	file := filepath.Join(t.TempDir(), "peak.prof")
	stop := peakProfile(file, time.Millisecond)
	held := allocateForPeakTest()
	runtime.GC() // the live heap is known after a collection
	var data []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if data = readPeakProfile(t, file); bytes.Contains(data, []byte("allocateForPeakTest")) {
			break
		}
	}
	stop()
	runtime.KeepAlive(held)
	if !bytes.Contains(data, []byte("allocateForPeakTest")) {
		t.Fatalf("%s: no profile taken after a 32 MiB allocation (%d bytes)", file, len(data))
	}
}

//go:noinline
func allocateForPeakTest() []byte {
	b := make([]byte, 32<<20)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// readPeakProfile returns the uncompressed profile at file, nil if there
// is none (yet, or half-written).
func readPeakProfile(t *testing.T, file string) []byte {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil
	}
	return data
}
