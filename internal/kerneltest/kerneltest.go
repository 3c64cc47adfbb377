package kerneltest

import (
	"os"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/features"
)

// RequireVerifier skips the test unless this process can load BPF
// programs into the running kernel's verifier (root and a BPF-capable
// kernel). CI runs as root on such a kernel, so there the test runs.
func RequireVerifier(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("verifier tests need root (CAP_BPF); skipping")
	}
	if err := features.HaveProgramType(ebpf.XDP); err != nil {
		tb.Skipf("kernel cannot load XDP programs (%v); skipping", err)
	}
}

// RequireKernelBTF skips the test unless the running kernel exposes its
// BTF (CO-RE objects need it to load).
func RequireKernelBTF(tb testing.TB) {
	tb.Helper()
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		tb.Skip("kernel has no BTF (/sys/kernel/btf/vmlinux): CO-RE objects cannot be loaded")
	}
}

// OpenFDs counts this process's open file descriptors (for leak checks);
// it skips the test where /proc/self/fd does not exist.
func OpenFDs(tb testing.TB) int {
	tb.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		tb.Skip("no /proc/self/fd")
	}
	return len(ents)
}
