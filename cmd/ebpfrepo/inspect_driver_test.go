package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestInspectDriver: inspect verifies a .sys offline and names the class,
// or the step that failed, with exit 1.
func TestInspectDriver(t *testing.T) {
	dir := "../../testdata/windows/"
	out, errOut, code := runCmd(t, "--json", "inspect", dir+"test-signed.sys", "--test-root", dir+"keys/test-root.pem")
	var rep struct {
		Class      string
		Signatures []struct{ Subject string }
		Sections   []string
	}
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Class != "test-signed" || len(rep.Sections) == 0 {
		t.Fatalf("inspect test-signed.sys: exit %d, %q %s", code, out, errOut)
	}
	if _, errOut, code := runCmd(t, "inspect", dir+"test-signed.sys"); code != 1 || !strings.Contains(errOut, "hvci.chain") {
		t.Errorf("without its test root: exit %d, %s", code, errOut)
	}
	_, errOut, code = runCmd(t, "inspect", dir+"tampered-header.sys", "--test-root", dir+"keys/test-root.pem")
	if code != 1 || !strings.Contains(errOut, "hvci.authentihash") {
		t.Errorf("tampered: exit %d, %q", code, errOut)
	}
}

// TestInspectWindowsObject: --platform Windows shows the object as eBPF
// for Windows loads it, and refuses one built for Linux program types.
func TestInspectWindowsObject(t *testing.T) {
	out, errOut, code := runCmd(t, "inspect", "--platform", "Windows", "../../testdata/packages/windows-sample/port_block.bpf.o")
	if code != 0 || !strings.Contains(out, "WindowsXDP") {
		t.Errorf("windows-sample: exit %d\n%s%s", code, out, errOut)
	}
	_, errOut, code = runCmd(t, "inspect", "--platform", "Windows", "../../testdata/packages/tc-stats/tc_stats.bpf.o")
	if code != 1 || !strings.Contains(errOut, "eBPF for Windows") {
		t.Errorf("a Linux tc object as Windows: exit %d, %q", code, errOut)
	}
}
