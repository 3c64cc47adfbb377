package kernelsig

import (
	"context"
	"os"
	"testing"
)

// TestLoad asks the running kernel. The unsigned loader must load: it
// proves the map and program attributes are laid out as the kernel reads
// them. A signed loader whose signature is cut short must not be
// accepted. What the kernel says of the good signed loader depends on
// its configuration and keyrings (the test CA is in none of them), and is
// logged.
func TestLoad(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (CAP_BPF, CAP_SYS_ADMIN) to load a BPF_PROG_TYPE_SYSCALL program")
	}
	ctx := context.Background()
	un, err := ParseSkeleton(read(t, "unsigned.lskel.h"))
	if err != nil {
		t.Fatal(err)
	}
	if r := Load(ctx, Loader{Insns: un.Insns, Data: un.Data}); r.Status != LoadAccepted {
		if r.Errno == "EINVAL" || r.Errno == "E2BIG" {
			t.Fatalf("unsigned loader: %+v: the attributes are not what this kernel reads", r)
		}
		t.Skipf("this kernel does not load syscall programs: %+v", r)
	}
	good := goodLoader(t)
	r := Load(ctx, good)
	t.Logf("kernel %s on the signed loader: %s %s %s", r.Kernel, r.Status, r.Errno, r.Reason)
	if r.Status == LoadNotRun {
		t.Fatalf("signed loader not tried: %+v", r)
	}
	bad := good
	bad.Signature = bad.Signature[:len(bad.Signature)/2]
	if r := Load(ctx, bad); r.Status == LoadAccepted {
		t.Fatalf("the kernel accepted a truncated signature: %+v", r)
	}
}
