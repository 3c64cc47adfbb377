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
