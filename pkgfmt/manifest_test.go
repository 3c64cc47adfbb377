package pkgfmt

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ebpfrepo/ebpfrepo/internal/suggest"
	"github.com/google/go-cmp/cmp"
)

const testManifestTOML = `name        = "ratelimiting"
version     = "1.2.0"
description = "XDP rate limiter for TCP SYNs per port"
license     = "GPL-2.0-only OR BSD-2-Clause"
readme      = "README.md"
source      = "https://github.com/l3af-project/eBPF-Package-Repository"
keywords    = ["xdp", "ratelimit"]
maintainers = [{ name = "Jane Doe", email = "jane@example.org" }]
artifact    = "l3af_ratelimiting.tar.gz"
platforms   = ["jammy", "noble"]
min_kernel  = "5.15"

[[programs]]
name     = "xdp_ratelimiting"
object   = "ratelimiting.bpf.o"
type     = "xdp"
chaining = "l3af"
map_name = "xdp_rl_ingress_next_prog"

[l3afd]
cmd_start = "ratelimiting"
`

// problemKey is the part of a problem a test asserts on.
type problemKey struct {
	Severity Severity
	Code     string
	Field    string
}

func problemKeys(ps []Problem) []problemKey {
	var out []problemKey
	for _, p := range ps {
		out = append(out, problemKey{p.Severity, p.Code, p.Field})
	}
	return out
}

func TestParseManifestGood(t *testing.T) {
	m, ps := ParseManifest([]byte(testManifestTOML))
	if len(ps) != 0 {
		t.Fatalf("problems: %v", ps)
	}
	want := &Manifest{
		Name: "ratelimiting", Version: "1.2.0", Description: "XDP rate limiter for TCP SYNs per port",
		License: "GPL-2.0-only OR BSD-2-Clause", Readme: "README.md",
		Source:      "https://github.com/l3af-project/eBPF-Package-Repository",
		Keywords:    []string{"xdp", "ratelimit"},
		Maintainers: []Maintainer{{Name: "Jane Doe", Email: "jane@example.org"}},
		Artifact:    "l3af_ratelimiting.tar.gz", Platforms: []string{"jammy", "noble"}, MinKernel: "5.15",
		Programs: []Program{{Name: "xdp_ratelimiting", Object: "ratelimiting.bpf.o", Type: "xdp",
			Chaining: "l3af", MapName: "xdp_rl_ingress_next_prog"}},
		L3afd: &L3afd{CmdStart: "ratelimiting"},
	}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("manifest (-want +got):\n%s", diff)
	}
	if got := m.ArtifactStem(); got != "l3af_ratelimiting" {
		t.Errorf("ArtifactStem = %q", got)
	}
}

func TestParseManifestRules(t *testing.T) {
	E, W := SeverityError, SeverityWarning
	sub := func(old, new string) string {
		if !strings.Contains(testManifestTOML, old) {
			panic("test: no " + old)
		}
		return strings.Replace(testManifestTOML, old, new, 1)
	}
	prog2 := testManifestTOML + `
[[programs]]
name   = "second"
object = "second.bpf.o"
type   = "tc"
`
	tests := []struct {
		name string
		toml string
		want []problemKey
		msg  string // substring of the first problem's message
	}{
		// Good variants.
		{"prerelease version", sub(`"1.2.0"`, `"2.0.0-rc.1+build.5"`), nil, ""},
		{"single license", sub(`"GPL-2.0-only OR BSD-2-Clause"`, `"MIT"`), nil, ""},
		{"license with exception", sub(`"GPL-2.0-only OR BSD-2-Clause"`, `"GPL-2.0-only WITH Linux-syscall-note"`), nil, ""},
		{"no optional fields", sub(`source      = "https://github.com/l3af-project/eBPF-Package-Repository"`, ``), nil, ""},
		{"chaining defaults to none", prog2, nil, ""},
		{"min_kernel X.Y.Z", sub(`"5.15"`, `"6.1.12"`), nil, ""},
		{"zip for Windows", sub(`"l3af_ratelimiting.tar.gz"`, `"l3af_ratelimiting.zip"`) + "", []problemKey{{W, "manifest.artifact", "artifact"}}, "Windows"},
		{"zip with Windows platform", sub(`"l3af_ratelimiting.tar.gz"`, `"l3af_ratelimiting.zip"`), nil, ""},

		// Syntax and types.
		{"syntax error", "name = \n", []problemKey{{E, "manifest.syntax", ""}}, "line 1"},
		{"syntax error says what to do", "name = \"x\ny = 1\n", []problemKey{{E, "manifest.syntax", ""}}, "line 1: strings cannot contain newlines: fix the TOML syntax there"},
		{"invalid utf-8", "name = \"\xff\"\n", []problemKey{{E, "manifest.syntax", ""}}, "UTF-8"},
		{"unknown key", testManifestTOML + "licence = \"MIT\"\n", nil, ""}, // placed under [l3afd]: see next
		{"unknown top-level key", "licence = \"MIT\"\n" + testManifestTOML, []problemKey{{E, "manifest.unknown-key", "licence"}}, `unknown key "licence" (did you mean "license"?)`},
		{"unknown program key", sub(`type     = "xdp"`, "type = \"xdp\"\ntpye = \"xdp\""), []problemKey{{E, "manifest.unknown-key", "programs[0].tpye"}}, `did you mean "type"?`},
		{"unknown key in second program", prog2 + "sektion = \"xdp\"\n", []problemKey{{E, "manifest.unknown-key", "programs[1].sektion"}}, `unknown key "sektion"`},
		{"unknown maintainer key", sub(`email = "jane@example.org"`, `mail = "jane@example.org"`), []problemKey{{E, "manifest.unknown-key", "maintainers[0].mail"}}, `did you mean "email"?`},
		{"key of a sub-table at top level", "cmd_stop = \"x\"\n" + testManifestTOML, []problemKey{{E, "manifest.unknown-key", "cmd_stop"}}, `did you mean "cmd_stop" under [l3afd]?`},
		{"top-level key after a table", testManifestTOML + "homepage = \"https://example.org\"\n", []problemKey{{E, "manifest.unknown-key", "l3afd.homepage"}}, "top-level key: move it above"},
		{"unknown key, nothing near", "zzzzzzzz = 1\n" + testManifestTOML, []problemKey{{E, "manifest.unknown-key", "zzzzzzzz"}}, `unknown key "zzzzzzzz"`},
		{"name not a string", sub(`name        = "ratelimiting"`, `name = 42`), []problemKey{{E, "manifest.type", "name"}}, "want a string, got an integer"},
		{"keywords not an array", sub(`["xdp", "ratelimit"]`, `"xdp"`), []problemKey{{E, "manifest.type", "keywords"}}, "want an array of strings"},
		{"keyword not a string", sub(`["xdp", "ratelimit"]`, `["xdp", 1]`), []problemKey{{E, "manifest.type", "keywords[1]"}}, "got an integer"},
		{"programs not tables", sub("[[programs]]\nname     = \"xdp_ratelimiting\"\nobject   = \"ratelimiting.bpf.o\"\ntype     = \"xdp\"\nchaining = \"l3af\"\nmap_name = \"xdp_rl_ingress_next_prog\"\n", ""),
			[]problemKey{{E, "manifest.type", "programs[0]"}}, "want a table"},
		{"several type errors at once", sub(`name        = "ratelimiting"`, `name = true`) + "", []problemKey{{E, "manifest.type", "name"}}, "boolean"},
		{"l3afd not a table", sub("[l3afd]\ncmd_start = \"ratelimiting\"\n", ""), nil, ""},

		// name
		{"name missing", sub(`name        = "ratelimiting"`, ``), []problemKey{{E, "manifest.name", "name"}}, "missing"},
		{"name with dot", sub(`"ratelimiting"`, `"rate.limiting"`), []problemKey{{E, "manifest.name", "name"}}, "no dots: l3afd builds bpffs pin paths"},
		{"name upper case", sub(`"ratelimiting"`, `"RateLimiting"`), []problemKey{{E, "manifest.name", "name"}}, "a-z"},
		{"name leading dash", sub(`"ratelimiting"`, `"-x"`), []problemKey{{E, "manifest.name", "name"}}, ""},
		{"name too long", sub(`"ratelimiting"`, `"`+strings.Repeat("a", 64)+`"`), []problemKey{{E, "manifest.name", "name"}}, ""},
		{"name 63 chars", sub(`"ratelimiting"`, `"`+strings.Repeat("a", 63)+`"`), nil, ""},

		// version
		{"version missing", sub(`version     = "1.2.0"`, ``), []problemKey{{E, "manifest.version", "version"}}, "missing"},
		{"version leading v", sub(`"1.2.0"`, `"v1.2.0"`), []problemKey{{E, "manifest.version", "version"}}, `drop the leading "v"`},
		{"version without patch", sub(`"1.2.0"`, `"1.2"`), []problemKey{{E, "manifest.version", "version"}}, `"1.2" is not a semantic version 2.0 (MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]): write "1.2.0"`},
		{"version with leading zero", sub(`"1.2.0"`, `"1.02.0"`), []problemKey{{E, "manifest.version", "version"}}, `write "1.2.0"`},
		{"version beyond repair", sub(`"1.2.0"`, `"latest"`), []problemKey{{E, "manifest.version", "version"}}, `write e.g. "1.0.0"`},
		{"version two parts", sub(`"1.2.0"`, `"1.2"`), []problemKey{{E, "manifest.version", "version"}}, "semantic version"},
		{"version leading zero", sub(`"1.2.0"`, `"01.2.0"`), []problemKey{{E, "manifest.version", "version"}}, ""},

		// description
		{"description missing", sub(`description = "XDP rate limiter for TCP SYNs per port"`, ``), []problemKey{{E, "manifest.description", "description"}}, "missing"},
		{"description blank", sub(`"XDP rate limiter for TCP SYNs per port"`, `"   "`), []problemKey{{E, "manifest.description", "description"}}, "missing"},
		{"description two lines", sub(`"XDP rate limiter for TCP SYNs per port"`, `"line one\nline two"`), []problemKey{{E, "manifest.description", "description"}}, "single line"},
		{"description too long", sub(`"XDP rate limiter for TCP SYNs per port"`, `"`+strings.Repeat("é", 301)+`"`), []problemKey{{E, "manifest.description", "description"}}, "301 characters"},
		{"description 300 runes", sub(`"XDP rate limiter for TCP SYNs per port"`, `"`+strings.Repeat("é", 300)+`"`), nil, ""},

		// license
		{"license missing", sub(`license     = "GPL-2.0-only OR BSD-2-Clause"`, ``), []problemKey{{E, "manifest.license", "license"}}, "SPDX"},
		{"license kernel style", sub(`"GPL-2.0-only OR BSD-2-Clause"`, `"Dual BSD/GPL"`), []problemKey{{E, "manifest.license", "license"}}, `"Dual BSD/GPL" is "GPL-2.0-only OR BSD-2-Clause"`},
		{"license GPL", sub(`"GPL-2.0-only OR BSD-2-Clause"`, `"GPL"`), []problemKey{{E, "manifest.license", "license"}}, "GPL-2.0-only"},
		{"license broken expression", sub(`"GPL-2.0-only OR BSD-2-Clause"`, `"MIT AND ("`), []problemKey{{E, "manifest.license", "license"}}, ""},

		// readme
		{"readme missing", sub(`readme      = "README.md"`, ``), []problemKey{{E, "manifest.readme", "readme"}}, "missing"},
		{"readme escapes", sub(`"README.md"`, `"../README.md"`), []problemKey{{E, "manifest.readme", "readme"}}, "escapes"},
		{"readme absolute", sub(`"README.md"`, `"/etc/passwd"`), []problemKey{{E, "manifest.readme", "readme"}}, "absolute"},
		{"readme in docs dir", sub(`"README.md"`, `"docs/README.md"`), nil, ""},

		// source, homepage
		{"source not http", sub(`"https://github.com/l3af-project/eBPF-Package-Repository"`, `"ftp://example.org/x"`), []problemKey{{E, "manifest.source", "source"}}, "http(s) URL without credentials: give an https:// link, or remove source"},
		{"source relative", sub(`"https://github.com/l3af-project/eBPF-Package-Repository"`, `"github.com/x"`), []problemKey{{E, "manifest.source", "source"}}, ""},
		{"homepage javascript", testManifestTOML[:0] + sub(`readme      = "README.md"`, "readme = \"README.md\"\nhomepage = \"javascript:alert(1)\""), []problemKey{{E, "manifest.homepage", "homepage"}}, ""},
		{"homepage with credentials", sub(`readme      = "README.md"`, "readme = \"README.md\"\nhomepage = \"https://u:p@example.org/\""), []problemKey{{E, "manifest.homepage", "homepage"}}, "credentials"},

		// keywords
		{"keyword upper case", sub(`"ratelimit"]`, `"RateLimit"]`), []problemKey{{E, "manifest.keywords", "keywords[1]"}}, ""},
		{"keyword duplicate", sub(`"ratelimit"]`, `"xdp"]`), []problemKey{{W, "manifest.keywords", "keywords[1]"}}, "twice"},
		{"too many keywords", sub(`["xdp", "ratelimit"]`, `[`+strings.Repeat(`"k", `, 20)+`"x"]`),
			append([]problemKey{{E, "manifest.keywords", "keywords"}}, repeatProblemKeys(W, "manifest.keywords", "keywords[%d]", 1, 19)...), "21 keywords"},

		// maintainers
		{"maintainers none", sub(`maintainers = [{ name = "Jane Doe", email = "jane@example.org" }]`, ``), []problemKey{{W, "manifest.maintainers", "maintainers"}}, ""},
		{"maintainer without name", sub(`name = "Jane Doe", `, ``), []problemKey{{E, "manifest.maintainers", "maintainers[0].name"}}, "missing"},
		{"maintainer bad email", sub(`"jane@example.org"`, `"jane"`), []problemKey{{E, "manifest.maintainers", "maintainers[0].email"}}, "email"},
		{"maintainer without email", sub(`, email = "jane@example.org"`, ``), nil, ""},

		// artifact
		{"artifact missing", sub(`artifact    = "l3af_ratelimiting.tar.gz"`, ``), []problemKey{{E, "manifest.artifact", "artifact"}}, "missing"},
		{"artifact tgz", sub(`"l3af_ratelimiting.tar.gz"`, `"l3af_ratelimiting.tgz"`), []problemKey{{E, "manifest.artifact", "artifact"}}, ".tar.gz or .zip"},
		{"artifact stem with dot", sub(`"l3af_ratelimiting.tar.gz"`, `"l3af.ratelimiting.tar.gz"`), []problemKey{{E, "manifest.artifact", "artifact"}}, `first dot as the top-level directory): write "l3af_ratelimiting.tar.gz"`},
		{"artifact empty stem", sub(`"l3af_ratelimiting.tar.gz"`, `".tar.gz"`), []problemKey{{E, "manifest.artifact", "artifact"}}, ""},
		{"artifact with slash", sub(`"l3af_ratelimiting.tar.gz"`, `"x/y.tar.gz"`), []problemKey{{E, "manifest.artifact", "artifact"}}, ""},

		// platforms
		{"platforms missing", sub(`platforms   = ["jammy", "noble"]`, ``), []problemKey{{E, "manifest.platforms", "platforms"}}, "missing"},
		{"platforms empty", sub(`["jammy", "noble"]`, `[]`), []problemKey{{E, "manifest.platforms", "platforms"}}, ""},
		{"platform dotdot", sub(`["jammy", "noble"]`, `["jammy", ".."]`), []problemKey{{E, "manifest.platforms", "platforms[1]"}}, ""},
		{"platform slash", sub(`["jammy", "noble"]`, `["jammy/x"]`), []problemKey{{E, "manifest.platforms", "platforms[0]"}}, ""},
		{"platform twice", sub(`["jammy", "noble"]`, `["jammy", "jammy"]`), []problemKey{{E, "manifest.platforms", "platforms[1]"}}, "twice"},

		// min_kernel
		{"min_kernel bad", sub(`"5.15"`, `"5"`), []problemKey{{E, "manifest.min-kernel", "min_kernel"}}, "X.Y"},
		{"min_kernel suffix", sub(`"5.15"`, `"5.15.0-generic"`), []problemKey{{E, "manifest.min-kernel", "min_kernel"}}, ""},

		// programs
		{"programs missing", strings.Split(testManifestTOML, "[[programs]]")[0], []problemKey{{E, "manifest.programs", "programs"}}, "missing"},
		{"program name not C", sub(`"xdp_ratelimiting"`, `"xdp-ratelimiting"`), []problemKey{{E, "manifest.program-name", "programs[0].name"}}, "C identifier"},
		{"program name missing", sub(`name     = "xdp_ratelimiting"`, ``), []problemKey{{E, "manifest.program-name", "programs[0].name"}}, "missing"},
		{"program duplicate", strings.Replace(prog2, `"second"`, `"xdp_ratelimiting"`, 1), []problemKey{{E, "manifest.program-duplicate", "programs[1].name"}}, "also declared as programs[0]"},
		{"object missing", sub(`object   = "ratelimiting.bpf.o"`, ``), []problemKey{{E, "manifest.program-object", "programs[0].object"}}, "missing"},
		{"object escapes", sub(`"ratelimiting.bpf.o"`, `"../x.bpf.o"`), []problemKey{{E, "manifest.program-object", "programs[0].object"}}, "escapes"},
		{"object unclean", sub(`"ratelimiting.bpf.o"`, `"./x.bpf.o"`), []problemKey{{E, "manifest.program-object", "programs[0].object"}}, ""},
		{"object not .o", sub(`"ratelimiting.bpf.o"`, `"ratelimiting.elf"`), []problemKey{{W, "manifest.program-object", "programs[0].object"}}, ""},
		{"type missing", sub(`type     = "xdp"`, ``), []problemKey{{E, "manifest.program-type", "programs[0].type"}}, "missing"},
		{"type unknown", sub(`type     = "xdp"`, `type = "xpd"`), []problemKey{{E, "manifest.program-type", "programs[0].type"}}, `did you mean "xdp"?`},
		{"chaining bad", sub(`chaining = "l3af"`, `chaining = "yes"`), []problemKey{{E, "manifest.program-chaining", "programs[0].chaining"}}, `"l3af" or "none"`},
		{"l3af without map_name", sub(`map_name = "xdp_rl_ingress_next_prog"`, ``), []problemKey{{E, "manifest.program-map-name", "programs[0].map_name"}}, `needs the prog array l3afd writes the next program into: set map_name to the name of the object's BPF_MAP_TYPE_PROG_ARRAY, or set chaining = "none"`},
		{"map_name without chaining", sub(`chaining = "l3af"`, `chaining = "none"`), []problemKey{{E, "manifest.program-map-name", "programs[0].map_name"}}, `chaining is "none"`},
		{"map_name not C", sub(`"xdp_rl_ingress_next_prog"`, `"next prog"`), []problemKey{{E, "manifest.program-map-name", "programs[0].map_name"}}, "C identifier"},

		// l3afd
		{"cmd_start escapes", sub(`cmd_start = "ratelimiting"`, `cmd_start = "../../bin/sh"`), []problemKey{{E, "manifest.l3afd", "l3afd.cmd_start"}}, "escapes"},
		{"cmd_stop absolute", sub(`cmd_start = "ratelimiting"`, "cmd_start = \"ratelimiting\"\ncmd_stop = \"/bin/kill\""), []problemKey{{E, "manifest.l3afd", "l3afd.cmd_stop"}}, "absolute"},

		// Everything at once: every problem is reported.
		{"many problems", `name = "A.B"
version = "v1"
description = ""
license = "Foo"
artifact = "x.y.tar"
platforms = []
`, []problemKey{
			{E, "manifest.name", "name"}, {E, "manifest.version", "version"}, {E, "manifest.description", "description"},
			{E, "manifest.license", "license"}, {E, "manifest.readme", "readme"}, {W, "manifest.maintainers", "maintainers"},
			{E, "manifest.artifact", "artifact"}, {E, "manifest.platforms", "platforms"}, {E, "manifest.programs", "programs"},
		}, ""},
	}
	// Fix up the two cases whose expectation depends on text built above.
	for i := range tests {
		switch tests[i].name {
		case "unknown key":
			// Appended after [l3afd], so the key belongs to that table.
			tests[i].want = []problemKey{{E, "manifest.unknown-key", "l3afd.licence"}}
			tests[i].msg = `unknown key "licence" (did you mean the top-level key "license"? move it above the first [table] header)`
		case "zip with Windows platform":
			tests[i].toml = strings.Replace(tests[i].toml, `["jammy", "noble"]`, `["Windows"]`, 1)
		case "programs not tables":
			tests[i].toml = "programs = [1]\n" + tests[i].toml
		case "l3afd not a table":
			tests[i].toml = "l3afd = \"x\"\n" + tests[i].toml
			tests[i].want = []problemKey{{E, "manifest.type", "l3afd"}}
			tests[i].msg = "want a table, got a string"
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ps := ParseManifest([]byte(tt.toml))
			if diff := cmp.Diff(tt.want, problemKeys(ps)); diff != "" {
				t.Errorf("problems (-want +got):\n%s\nall: %v", diff, ps)
			}
			for _, p := range ps {
				if p.File != ManifestFile {
					t.Errorf("problem %v: File = %q", p, p.File)
				}
				if p.Message == "" {
					t.Errorf("problem %v: no message", p)
				}
			}
			if tt.msg != "" && (len(ps) == 0 || !strings.Contains(ps[0].Message, tt.msg)) {
				t.Errorf("first message %q does not contain %q", firstProblemMessage(ps), tt.msg)
			}
			syntax := len(ps) > 0 && ps[0].Code == "manifest.syntax"
			if (m == nil) != syntax {
				t.Errorf("manifest nil = %v, syntax error = %v", m == nil, syntax)
			}
		})
	}
}

func repeatProblemKeys(s Severity, code, format string, from, to int) []problemKey {
	var out []problemKey
	for i := from; i <= to; i++ {
		out = append(out, problemKey{s, code, fmt.Sprintf(format, i)})
	}
	return out
}

func firstProblemMessage(ps []Problem) string {
	if len(ps) == 0 {
		return ""
	}
	return ps[0].Message
}

func TestParseManifestChainingDefault(t *testing.T) {
	m, ps := ParseManifest([]byte(strings.Replace(testManifestTOML, "chaining = \"l3af\"\nmap_name = \"xdp_rl_ingress_next_prog\"\n", "", 1)))
	if len(ps) != 0 {
		t.Fatalf("problems: %v", ps)
	}
	if got := m.Programs[0].Chaining; got != ChainingNone {
		t.Errorf("chaining = %q, want %q", got, ChainingNone)
	}
}

func TestParseManifestTooLarge(t *testing.T) {
	data := []byte(testManifestTOML + "# " + strings.Repeat("x", DefaultMaxManifestSize) + "\n")
	m, ps := ParseManifest(data)
	if m != nil || len(ps) != 1 || ps[0].Code != "manifest.too-large" {
		t.Errorf("got %v, %v", m, ps)
	}
}

func TestMarshalManifestRoundTrip(t *testing.T) {
	m, ps := ParseManifest([]byte(testManifestTOML))
	if len(ps) != 0 {
		t.Fatal(ps)
	}
	data, err := MarshalManifest(m)
	if err != nil {
		t.Fatal(err)
	}
	m2, ps := ParseManifest(data)
	if len(ps) != 0 {
		t.Fatalf("canonical form has problems: %v\n%s", ps, data)
	}
	if diff := cmp.Diff(m, m2); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	again, err := MarshalManifest(m2)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(data) {
		t.Errorf("canonical form not stable:\n%s\n---\n%s", data, again)
	}
	if strings.Contains(string(data), "  ") {
		t.Errorf("canonical form is indented:\n%s", data)
	}
}

func TestProgramTypes(t *testing.T) {
	for _, n := range ProgramTypeNames() {
		if _, ok := ProgramTypeFor(n); !ok {
			t.Errorf("%s: no kernel type", n)
		}
	}
	for in, want := range map[string]string{"xdp": "xdp", "tc": "tc", "kprobe": "probe", "lsm": ""} {
		if got := L3afdProgType(in); got != want {
			t.Errorf("L3afdProgType(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"licence", "license", 1}, {"kitten", "sitting", 3}, {"abc", "", 3}} {
		if got := suggest.EditDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(testManifestTOML))
	f.Add([]byte("name = 1\n[[programs]]\nname = [1]\n"))
	f.Add([]byte("licence = \"x\"\n[l3afd]\ncmd = 1\n"))
	f.Add([]byte("programs = [{name = \"a\", type = \"xdp\", chaining = \"l3af\"}]\n"))
	f.Add([]byte(testManifestTOML + "\n[[tests]]\nname = \"t\"\nprogram = \"a\"\npacket = \"00\"\nexpect = 2\nrepeat = 3\nmaps = [{ map = \"m\", key = { a = 1, b = [1, 2] }, value = \"0x00\" }]\nexpect_maps = [{ map = \"m\", key = 0, absent = true }]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, ps := ParseManifest(data)
		if m == nil && len(ps) == 0 {
			t.Fatal("nil manifest without problems")
		}
		for _, p := range ps {
			if p.Code == "" || p.Message == "" || (p.Severity != SeverityError && p.Severity != SeverityWarning) {
				t.Fatalf("malformed problem %+v", p)
			}
		}
		if m == nil || Problems(ps).HasErrors() {
			return
		}
		// A valid manifest survives the canonical round trip.
		out, err := MarshalManifest(m)
		if err != nil {
			t.Fatalf("marshal valid manifest: %v", err)
		}
		m2, ps2 := ParseManifest(out)
		if Problems(ps2).HasErrors() {
			t.Fatalf("canonical form invalid: %v\n%s", ps2, out)
		}
		if diff := cmp.Diff(m, m2); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s", diff)
		}
	})
}

func TestProblemString(t *testing.T) {
	got := Problem{Severity: SeverityError, Package: "p@1.0.0", File: "a.o",
		Field: "programs[0].type", Program: "prog", Code: "x.y", Message: "bad\nlog line"}.String()
	want := "error: p@1.0.0: a.o: programs[0].type (prog): bad\n    log line [x.y]"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	ps := Problems{{Severity: SeverityWarning, Code: "w"}, {Severity: SeverityError, Code: "e"}}
	if !ps.HasErrors() || len(ps.Errors()) != 1 || ps.Errors()[0].Code != "e" || len(ps.Warnings()) != 1 || ps.Warnings()[0].Code != "w" {
		t.Errorf("Problems split: errors %v warnings %v", ps.Errors(), ps.Warnings())
	}
	if (Problems{{Severity: SeverityWarning}}).HasErrors() {
		t.Error("warnings only: HasErrors")
	}
}

// FuzzDecodePaths: whatever decodeValid accepts in one typed decode, the
// reporting decode accepts too, with no problem and the same manifest —
// the fast path never hides what the slow one would report.
func FuzzDecodePaths(f *testing.F) {
	f.Add([]byte(testManifestTOML))
	f.Add([]byte(testManifestTOML + "\n[[tests]]\nname = \"t\"\nprogram = \"a\"\npacket = \"00\"\nexpect = 2\nmaps = [{ map = \"m\", key = { a = 1 }, value = \"0x00\" }]\n"))
	f.Add([]byte("name = 1\n"))
	f.Add([]byte("names = \"x\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fast := decodeValid(data)
		if fast == nil {
			return
		}
		var ps []Problem
		slow, _ := decodeReporting(data, func(p Problem) { ps = append(ps, p) })
		if len(ps) > 0 || slow == nil {
			t.Fatalf("the fast path accepted what the reporting path refuses: %v", ps)
		}
		if diff := cmp.Diff(slow, fast); diff != "" {
			t.Fatalf("the two paths decode differently (-reporting +fast):\n%s", diff)
		}
	})
}
