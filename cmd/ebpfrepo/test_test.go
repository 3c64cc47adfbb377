package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebpfrepo/ebpfrepo/internal/kerneltest"
	"github.com/ebpfrepo/ebpfrepo/internal/testpkgs"
)

// TestTestCommand: ebpfrepo test passes on the examples, fails (exit 1)
// with the difference on a broken copy, and reports bad definitions as
// lint does.
func TestTestCommand(t *testing.T) {
	kerneltest.RequireVerifier(t)
	good := []string{testpkgs.Dir("xdp-root"), testpkgs.Dir("tc-stats"), testpkgs.Dir("process-monitor")}
	out, errOut, code := runCmd(t, append([]string{"test"}, good...)...)
	if code != 0 {
		t.Fatalf("exit %d on the examples:\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"xdp-root@1.0.0: 2/2 tests pass on ",
		"PASS  xdp_root: every packet is tail-called into the first chained program — TAIL_CALL",
		"tc-stats@0.3.1: 4/4 tests pass",
		"N/A   handle_exec: (no vector)",
		"the package is untested",
		"ok: 6 passed, 0 failed, 0 skipped, in 3 package(s)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	broken := filepath.Join(t.TempDir(), "ratelimiting")
	if err := os.CopyFS(broken, os.DirFS(testpkgs.Dir("ratelimiting-1.1.0"))); err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(filepath.Join(testpkgs.Dir("ratelimiting-1.0.0"), "ratelimiting.bpf.o"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(broken, "ratelimiting.bpf.o"), old, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, code = runCmd(t, "test", broken)
	if code != 1 || !strings.Contains(out, "FAIL  xdp_ratelimiting: IPv6 SYNs past the limit are dropped too\n          verdict XDP_PASS (2), want XDP_DROP (1)") ||
		!strings.Contains(out, "FAILED: 5 passed, 1 failed") {
		t.Errorf("broken copy: exit %d, output:\n%s", code, out)
	}

	out, _, code = runCmd(t, "--json", "test", broken)
	var doc testOutput
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 1 || doc.OK || len(doc.Results) != 1 || doc.Results[0].Tests == nil || !doc.Results[0].Tests.Failed() {
		t.Errorf("--json: exit %d, err %v, %+v", code, err, doc)
	}

	mf := filepath.Join(broken, "ebpf-package.toml")
	m, err := os.ReadFile(mf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mf, []byte(strings.Replace(string(m), `expect  = "XDP_DROP"`, `expect  = "TC_ACT_SHOT"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, code = runCmd(t, "test", broken)
	if code != 1 || !strings.Contains(out, "[test.verdict]") {
		t.Errorf("bad definition: exit %d, output:\n%s", code, out)
	}
}
