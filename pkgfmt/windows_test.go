package pkgfmt

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebpfrepo/ebpfrepo/bpfobj"
)

// TestWindowsPackages: a package for Windows only is described as eBPF
// for Windows loads it (no Linux kernel inference); one whose object uses
// Linux-only program types is refused naming the program; for Windows
// and Linux both, the same finding is a warning.
func TestWindowsPackages(t *testing.T) {
	ctx := context.Background()
	d, err := LintPath(ctx, "../testdata/packages/windows-sample", LintOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Problems.Errors()) > 0 || d.Objects[0].Platform != bpfobj.PlatformWindows || d.Objects[0].Programs[0].Type != "WindowsXDP" || d.Kernel != nil {
		t.Errorf("windows-sample: problems %v, object %+v, kernel %v", d.Problems, d.Objects[0].Programs, d.Kernel)
	}
	for _, tc := range []struct {
		platforms string
		sev       Severity
	}{{`["Windows"]`, SeverityError}, {`["Windows", "jammy"]`, SeverityWarning}} {
		dir := filepath.Join(t.TempDir(), "tc-stats")
		os.MkdirAll(dir, 0o755)
		src := "../testdata/packages/tc-stats"
		ents, _ := os.ReadDir(src)
		for _, e := range ents {
			data, _ := os.ReadFile(filepath.Join(src, e.Name()))
			if e.Name() == ManifestFile {
				data = []byte(strings.Replace(string(data), `["jammy", "noble"]`, tc.platforms, 1))
			}
			os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644)
		}
		d, err := LintPath(ctx, dir, LintOptions{})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, p := range d.Problems {
			if p.Code == CodeWindowsUnsupported && p.Severity == tc.sev && p.Program != "" && strings.Contains(p.Message, "eBPF for Windows") {
				found = true
			}
		}
		if !found {
			t.Errorf("platforms %s: problems %v, want %s %s naming the program", tc.platforms, d.Problems, tc.sev, CodeWindowsUnsupported)
		}
	}
}
