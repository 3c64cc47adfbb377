package pkgfmt

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ebpfrepo/ebpfrepo/bpfobj"
)

// sysfsVmlinux is where the running kernel exposes its BTF.
const sysfsVmlinux = "/sys/kernel/btf/vmlinux"

func readObject(tb testing.TB, path string) bpfobj.ObjectData {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return bpfobj.ObjectData{Path: filepath.Base(path), Data: data}
}

// TestObjectLimitIsFileLimit: an object that fits in a package also fits
// the object parser.
func TestObjectLimitIsFileLimit(t *testing.T) {
	if bpfobj.MaxObjectSize != DefaultMaxFileSize {
		t.Errorf("bpfobj.MaxObjectSize %d, pkgfmt.DefaultMaxFileSize %d", bpfobj.MaxObjectSize, DefaultMaxFileSize)
	}
}
