package pkgfmt

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/features"
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

// requireVerifier skips the test unless this process can load BPF programs.
func requireVerifier(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("verifier tests need root (CAP_BPF); skipping")
	}
	if err := features.HaveProgramType(ebpf.XDP); err != nil {
		tb.Skipf("kernel cannot load XDP programs (%v); skipping", err)
	}
}

// TestObjectLimitIsFileLimit: an object that fits in a package also fits
// the object parser.
func TestObjectLimitIsFileLimit(t *testing.T) {
	if bpfobj.MaxObjectSize != DefaultMaxFileSize {
		t.Errorf("bpfobj.MaxObjectSize %d, pkgfmt.DefaultMaxFileSize %d", bpfobj.MaxObjectSize, DefaultMaxFileSize)
	}
}

func openFDs(tb testing.TB) int {
	tb.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		tb.Skip("no /proc/self/fd")
	}
	return len(ents)
}
