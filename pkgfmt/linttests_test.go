package pkgfmt_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebpfrepo/ebpfrepo/internal/kerneltest"
	"github.com/ebpfrepo/ebpfrepo/internal/testpkgs"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
	"github.com/ebpfrepo/ebpfrepo/progtest"
	"github.com/google/go-cmp/cmp"
)

// TestMain lets the test binary run test vectors in child processes, as
// the ebpfrepo binary does.
func TestMain(m *testing.M) {
	progtest.Serve()
	os.Exit(m.Run())
}

// copyPackage copies an example package into a temporary directory.
func copyPackage(t *testing.T, name string) string {
	t.Helper()
	src := testpkgs.Dir(name)
	dst := filepath.Join(t.TempDir(), name)
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestTestVectorDefinitions: each mistake in a [[tests]] entry is its own
// problem, at its own field, without a kernel.
func TestTestVectorDefinitions(t *testing.T) {
	const vector = `
[[tests]]
name    = "v"
program = "xdp_ratelimiting"
pcap    = "tests/syn-80.pcap"
expect  = "XDP_DROP"
`
	truncated := func(dir string) error { // a capture cut inside its first packet
		b, err := os.ReadFile(filepath.Join(dir, "tests", "other.pcap"))
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, "tests", "truncated.pcap"), b[:60], 0o644)
	}
	for _, tc := range []struct {
		name, from, to string
		code, field    string
		msg            string
		prepare        func(dir string) error
	}{
		{"unknown program", `program = "xdp_ratelimiting"`, `program = "xdp_ratelimit"`, pkgfmt.CodeTestProgram, "tests[0].program", `"xdp_ratelimit" is not a declared program (declared: xdp_ratelimiting)`, nil},
		{"verdict of another program type", `XDP_DROP`, `TC_ACT_SHOT`, pkgfmt.CodeTestVerdict, "tests[0].expect", `verdict "TC_ACT_SHOT" is not one of XDP's`, nil},
		{"malformed capture", `tests/syn-80.pcap`, `tests/truncated.pcap`, pkgfmt.CodeTestPcap, "tests[0].pcap", "packet 1: unexpected EOF", truncated},
		{"key of the wrong size", `expect  = "XDP_DROP"`, "expect = \"XDP_DROP\"\nmaps = [{ map = \"rl_config_map\", key = \"0x0000\", value = 3 }]", pkgfmt.CodeTestMapKey, "tests[0].maps[0].key", "2 bytes of hex, the map's size is 4", nil},
		{"no name", `name    = "v"`, `name = ""`, pkgfmt.CodeTestName, "tests[0].name", "missing", nil},
		{"two inputs", `pcap    = "tests/syn-80.pcap"`, `pcap = "tests/syn-80.pcap"` + "\n" + `packet = "00"`, pkgfmt.CodeTestInput, "tests[0].pcap", "more than one input", nil},
		{"no input", `pcap    = "tests/syn-80.pcap"`, ``, pkgfmt.CodeTestInput, "tests[0].pcap", "no input", nil},
		{"missing capture", `tests/syn-80.pcap`, `tests/nope.pcap`, pkgfmt.CodeTestInput, "tests[0].pcap", "is not in the package", nil},
		{"traversal", `tests/syn-80.pcap`, `../../etc/passwd`, pkgfmt.CodeTestInput, "tests[0].pcap", "..", nil},
		{"short packet", `pcap    = "tests/syn-80.pcap"`, `packet = "0011"`, pkgfmt.CodeTestInput, "tests[0].packet", "shorter than an Ethernet header", nil},
		{"bad hex", `pcap    = "tests/syn-80.pcap"`, `packet = "zz"`, pkgfmt.CodeTestInput, "tests[0].packet", "not hex", nil},
		{"context for XDP", `pcap    = "tests/syn-80.pcap"`, `context = "README.md"`, pkgfmt.CodeTestInput, "tests[0].context", "run on a packet", nil},
		{"repeat", `expect  = "XDP_DROP"`, "expect = \"XDP_DROP\"\nrepeat = 2000000", pkgfmt.CodeTestRepeat, "tests[0].repeat", "between 1 and", nil},
		{"no verdict", `expect  = "XDP_DROP"`, ``, pkgfmt.CodeTestVerdict, "tests[0].expect", "missing", nil},
		{"verdict typo", `XDP_DROP`, `XDP_DORP`, pkgfmt.CodeTestVerdict, "tests[0].expect", "XDP_DROP", nil},
		{"unknown map", `expect  = "XDP_DROP"`, "expect = \"XDP_DROP\"\nmaps = [{ map = \"rl_conf\", key = 0, value = 1 }]", pkgfmt.CodeTestMap, "tests[0].maps[0].map", "has no map \"rl_conf\"", nil},
		{"absent in a preload", `expect  = "XDP_DROP"`, "expect = \"XDP_DROP\"\nmaps = [{ map = \"rl_config_map\", key = 0, absent = true }]", pkgfmt.CodeTestMap, "tests[0].maps[0].absent", "for expect_maps", nil},
		{"key too large", `expect  = "XDP_DROP"`, "expect = \"XDP_DROP\"\nmaps = [{ map = \"rl_ports_map\", key = 70000, value = 1 }]", pkgfmt.CodeTestMapKey, "tests[0].maps[0].key", "does not fit in 2 bytes", nil},
		{"value of the wrong type", `expect  = "XDP_DROP"`, "expect = \"XDP_DROP\"\nexpect_maps = [{ map = \"rl_window_map\", key = 80, value = 1 }]", pkgfmt.CodeTestMapValue, "tests[0].expect_maps[0].value", "give a table of its fields", nil},
		{"unknown field", `expect  = "XDP_DROP"`, "expect = \"XDP_DROP\"\nexpect_maps = [{ map = \"rl_window_map\", key = 80, value = { cnt = 1 } }]", pkgfmt.CodeTestMapValue, "tests[0].expect_maps[0].value", `no field "cnt" (it has start_ns, count)`, nil},
		{"value and absent", `expect  = "XDP_DROP"`, "expect = \"XDP_DROP\"\nexpect_maps = [{ map = \"rl_window_map\", key = 80, value = 1, absent = true }]", pkgfmt.CodeTestMap, "tests[0].expect_maps[0].value", "or absent = true", nil},
		{"repeat mistyped", `expect  = "XDP_DROP"`, "expect = \"XDP_DROP\"\nrepeat = \"4\"", "manifest.type", "tests[0].repeat", "want an integer", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyPackage(t, "ratelimiting-1.1.0")
			mf := filepath.Join(dir, pkgfmt.ManifestFile)
			data, err := os.ReadFile(mf)
			if err != nil {
				t.Fatal(err)
			}
			m := string(data)
			m = m[:strings.Index(m, "\n# Test vectors")] + strings.Replace(vector, tc.from, tc.to, 1)
			if err := os.WriteFile(mf, []byte(m), 0o644); err != nil {
				t.Fatal(err)
			}
			if tc.prepare != nil {
				if err := tc.prepare(dir); err != nil {
					t.Fatal(err)
				}
			}
			d, err := pkgfmt.LintPath(context.Background(), dir, pkgfmt.LintOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var got []pkgfmt.Problem
			for _, p := range d.Problems {
				if p.Code == tc.code && p.Field == tc.field && strings.Contains(p.Message, tc.msg) {
					got = append(got, p)
				}
			}
			if len(got) != 1 || len(d.Errors()) != 1 {
				t.Fatalf("want exactly one error %s at %s containing %q; problems:\n%v", tc.code, tc.field, tc.msg, d.Problems)
			}
		})
	}
}

// TestTestVectorsFailOnABrokenCopy: ratelimiting 1.1.0's vectors, run
// against 1.0.0's object (which does not limit IPv6), fail with the
// difference named; lint --verify reports it as test.failed.
func TestTestVectorsFailOnABrokenCopy(t *testing.T) {
	kerneltest.RequireVerifier(t)
	dir := copyPackage(t, "ratelimiting-1.1.0")
	old, err := os.ReadFile(filepath.Join(testpkgs.Dir("ratelimiting-1.0.0"), "ratelimiting.bpf.o"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ratelimiting.bpf.o"), old, 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := pkgfmt.LintPath(context.Background(), dir, pkgfmt.LintOptions{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, p := range d.Errors() {
		failed = append(failed, p.Code+": "+p.Message)
	}
	want := []string{`test.failed: test "IPv6 SYNs past the limit are dropped too" failed on ` + d.Tests.On() + `: verdict XDP_PASS (2), want XDP_DROP (1)`}
	if diff := cmp.Diff(want, failed); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if c := d.Tests.Count(); c.Pass != 5 || c.Fail != 1 || !strings.HasPrefix(d.Tests.Isolation, "child process") {
		t.Errorf("report %s, %+v, isolation %q", d.Tests.Summary(), c, d.Tests.Isolation)
	}
}

// TestTestVectorsNotRunnable: a package of tracepoint programs has no
// runnable vector; its programs are reported as not runnable in
// isolation, never as passed.
func TestTestVectorsNotRunnable(t *testing.T) {
	kerneltest.RequireVerifier(t)
	d, err := pkgfmt.LintPath(context.Background(), testpkgs.Dir("process-monitor"), pkgfmt.LintOptions{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	c := d.Tests.Count()
	if c.NotRunnable != 2 || c.Pass != 0 || c.Vectors() != 0 {
		t.Errorf("counts %+v, want 2 not runnable and nothing else", c)
	}
	if got, want := d.Tests.Summary(), "no test vectors; 2 programs not runnable in isolation"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
}

// TestTestVectorNotRunnable: a vector for a program type BPF_PROG_RUN
// cannot run (a tracepoint) is its own lint problem, without a kernel.
func TestTestVectorNotRunnable(t *testing.T) {
	dir := copyPackage(t, "process-monitor")
	mf := filepath.Join(dir, pkgfmt.ManifestFile)
	data, err := os.ReadFile(mf)
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, "\n[[tests]]\nname = \"exec\"\nprogram = \"handle_exec\"\ncontext = \"README.md\"\nexpect = 0\n"...)
	if err := os.WriteFile(mf, data, 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := pkgfmt.LintPath(context.Background(), dir, pkgfmt.LintOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if errs := d.Errors(); len(errs) != 1 || errs[0].Code != pkgfmt.CodeTestNotRunnable || errs[0].Field != "tests[0].program" ||
		!strings.Contains(errs[0].Message, "TracePoint programs are not runnable in isolation") {
		t.Errorf("errors %v, want one test.not-runnable at tests[0].program", errs)
	}
}
