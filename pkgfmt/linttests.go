package pkgfmt

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/ebpfrepo/ebpfrepo/bpfobj"
	"github.com/ebpfrepo/ebpfrepo/progtest"
)

// Problem codes of the test vectors ([[tests]]); docs/lint.md documents
// each.
const (
	CodeTestName        = "test.name"         // missing or duplicate name
	CodeTestProgram     = "test.program"      // not a declared program
	CodeTestInput       = "test.input"        // no input, two inputs, a missing file, bad hex
	CodeTestPcap        = "test.pcap"         // a capture that cannot be read
	CodeTestVerdict     = "test.verdict"      // an unknown verdict
	CodeTestRepeat      = "test.repeat"       // repeat out of range
	CodeTestMap         = "test.map"          // a map the object does not have, or an entry without key or value
	CodeTestMapKey      = "test.map-key"      // a key of the wrong size or type
	CodeTestMapValue    = "test.map-value"    // a value of the wrong size or type
	CodeTestNotRunnable = "test.not-runnable" // a vector for a program type BPF_PROG_RUN cannot run
	CodeTestTooMany     = "test.too-many"     // more vectors than allowed
	CodeTestFailed      = "test.failed"       // a vector ran and something differed
	CodeTestError       = "test.error"        // a vector could not run to its end (load failure, time or memory limit)
)

// Limits of [[tests]].
const (
	MaxTests      = 256
	MaxTestRepeat = 1_000_000
	maxTestMaps   = 64
	maxContext    = 64 << 10
)

// checkTests checks what the manifest alone can say of [[tests]]; the
// test stage of Describe checks them against the objects.
func (c *manifestChecker) checkTests() {
	ts := c.m.Tests
	if len(ts) > MaxTests {
		c.errorf(CodeTestTooMany, "tests", "%d test vectors, at most %d allowed", len(ts), MaxTests)
		return
	}
	seen := map[string]int{}
	for i, t := range ts {
		f := func(k string) string { return fmt.Sprintf("tests[%d].%s", i, k) }
		switch {
		case strings.TrimSpace(t.Name) == "":
			c.errorf(CodeTestName, f("name"), "missing: say what the vector shows, e.g. \"SYNs past the limit are dropped\"")
		case len(t.Name) > 200 || hasControlChar(t.Name):
			c.errorf(CodeTestName, f("name"), "at most 200 characters, no control characters")
		default:
			if j, dup := seen[t.Name]; dup {
				c.errorf(CodeTestName, f("name"), "%q is also the name of tests[%d]", t.Name, j)
			} else {
				seen[t.Name] = i
			}
		}
		if t.Program == "" {
			c.errorf(CodeTestProgram, f("program"), "missing: name one of the [[programs]]")
		}
		inputs := 0
		for _, in := range []string{t.Pcap, t.Packet, t.Context} {
			if in != "" {
				inputs++
			}
		}
		switch {
		case inputs == 0:
			c.errorf(CodeTestInput, f("pcap"), "no input: give pcap (a capture file), packet (hex) or context (a file)")
		case inputs > 1:
			c.errorf(CodeTestInput, f("pcap"), "more than one input: give one of pcap, packet and context")
		}
		for _, kv := range [][2]string{{"pcap", t.Pcap}, {"context", t.Context}, {"expect_pcap", t.ExpectPcap}} {
			if kv[1] != "" {
				if err := checkRelPath(kv[1]); err != nil {
					c.errorf(CodeTestInput, f(kv[0]), "%q: %v", kv[1], err)
				}
			}
		}
		if t.ExpectPcap != "" && t.ExpectPacket != "" {
			c.errorf(CodeTestInput, f("expect_packet"), "give expect_pcap or expect_packet, not both")
		}
		if t.Repeat < 0 || t.Repeat > MaxTestRepeat {
			c.errorf(CodeTestRepeat, f("repeat"), "%d: between 1 and %d (0 or absent means 1)", t.Repeat, MaxTestRepeat)
		}
		if t.Expect == nil {
			c.errorf(CodeTestVerdict, f("expect"), "missing: the verdict every input must give (XDP_DROP, TC_ACT_OK, TAIL_CALL, a number)")
		}
		if len(t.Maps) > maxTestMaps || len(t.ExpectMaps) > maxTestMaps {
			c.errorf(CodeTestTooMany, f("maps"), "at most %d map entries each in maps and expect_maps", maxTestMaps)
		}
		for j, e := range t.Maps {
			g := func(k string) string { return fmt.Sprintf("tests[%d].maps[%d].%s", i, j, k) }
			switch {
			case e.Map == "" || e.Key == nil:
				c.errorf(CodeTestMap, g("map"), "give map and key (and value)")
			case e.Absent:
				c.errorf(CodeTestMap, g("absent"), "absent is for expect_maps; to preload, give a value")
			case e.Value == nil:
				c.errorf(CodeTestMap, g("value"), "missing: the value to preload")
			}
		}
		for j, e := range t.ExpectMaps {
			g := func(k string) string { return fmt.Sprintf("tests[%d].expect_maps[%d].%s", i, j, k) }
			switch {
			case e.Map == "" || e.Key == nil:
				c.errorf(CodeTestMap, g("map"), "give map and key (and value, or absent = true)")
			case e.Absent == (e.Value != nil):
				c.errorf(CodeTestMap, g("value"), "give a value, or absent = true for a key that must not exist")
			}
		}
	}
}

// tests resolves the test vectors against the objects, reporting every
// bad definition, and runs them when opts.Verify asks: each program
// loaded, never attached, in a child process (progtest.Run).
func (dc *describer) tests(ctx context.Context) {
	if dc.m == nil || dc.windowsOnly() {
		if dc.m != nil && len(dc.m.Tests) > 0 {
			dc.add(SeverityError, CodeTestNotRunnable, ManifestFile, "tests", "",
				"test vectors run through the Linux kernel's BPF_PROG_RUN; a Windows-only package cannot have them")
		}
		return
	}
	tr := dc.testResolver()
	var cases []progtest.Case
	for i := range dc.m.Tests {
		if c, ok := tr.resolve(i); ok {
			cases = append(cases, c)
		}
	}
	if !dc.opts.Verify {
		return
	}
	var objs []bpfobj.ObjectData
	for _, o := range dc.parsed {
		if f, ok := dc.c.File(o.Path); ok {
			objs = append(objs, bpfobj.ObjectData{Path: o.Path, Data: f.Data})
		}
	}
	rep := progtest.Run(ctx, objs, cases, dc.opts.Tests)
	rep.Results = append(rep.Results, tr.notRunnable()...)
	dc.d.Tests = rep
	for _, r := range rep.Results {
		switch r.Status {
		case progtest.StatusFail:
			dc.add(SeverityError, CodeTestFailed, ManifestFile, "", r.Program, "test %q failed on %s: %s", r.Name, rep.On(), r.Diff)
		case progtest.StatusError:
			dc.add(SeverityError, CodeTestError, ManifestFile, "", r.Program, "test %q did not run to its end: %s", r.Name, r.Reason)
		}
	}
}

// testResolver turns [[tests]] into progtest cases, with the objects'
// program and map specs.
type testResolver struct {
	dc    *describer
	specs map[string]*ebpf.CollectionSpec // by object path
	progs map[string]Program              // declared programs by name
}

func (dc *describer) testResolver() *testResolver {
	tr := &testResolver{dc: dc, specs: map[string]*ebpf.CollectionSpec{}, progs: map[string]Program{}}
	for _, o := range dc.parsed {
		tr.specs[o.Path] = o.Spec()
	}
	for _, p := range dc.m.Programs {
		tr.progs[p.Name] = p
	}
	return tr
}

// notRunnable reports every declared program whose type no vector can
// run, so that it shows as "not runnable in isolation", never as passed.
func (tr *testResolver) notRunnable() []progtest.Result {
	var out []progtest.Result
	for _, p := range tr.dc.m.Programs {
		ps := tr.program(p)
		if ps == nil {
			continue
		}
		if in, why := progtest.InputOf(ps.Type); in == progtest.InputNone {
			out = append(out, progtest.Result{Object: p.Object, Program: p.Name, Status: progtest.StatusNotRunnable, Reason: why})
		}
	}
	return out
}

func (tr *testResolver) program(p Program) *ebpf.ProgramSpec {
	if spec := tr.specs[p.Object]; spec != nil {
		return spec.Programs[p.Name]
	}
	return nil
}

// resolve checks tests[i] against the object and builds its case; ok
// is false when it has a problem (reported).
func (tr *testResolver) resolve(i int) (c progtest.Case, ok bool) {
	dc := tr.dc
	t := dc.m.Tests[i]
	field := func(k string) string { return fmt.Sprintf("tests[%d].%s", i, k) }
	bad := false
	fail := func(code, f, format string, args ...any) {
		dc.add(SeverityError, code, ManifestFile, field(f), t.Program, "test %q: "+format, append([]any{t.Name}, args...)...)
		bad = true
	}
	p, declared := tr.progs[t.Program]
	if !declared {
		if t.Program != "" {
			names := make([]string, 0, len(tr.progs))
			for n := range tr.progs {
				names = append(names, n)
			}
			slices.Sort(names)
			fail(CodeTestProgram, "program", "%q is not a declared program (declared: %s)", t.Program, strings.Join(names, ", "))
		}
		return c, false
	}
	spec := tr.specs[p.Object]
	ps := tr.program(p)
	if ps == nil {
		return c, false // the object is missing or does not hold it: reported by objects/programs
	}
	in, why := progtest.InputOf(ps.Type)
	if in == progtest.InputNone {
		fail(CodeTestNotRunnable, "program", "%s", why)
		return c, false
	}
	if t.Repeat < 0 || t.Repeat > MaxTestRepeat {
		return c, false // reported by checkTests; never run
	}
	c = progtest.Case{Name: t.Name, Object: p.Object, Program: p.Name, Repeat: uint32(max(t.Repeat, 1))}
	if in == progtest.InputContext && t.Repeat > 1 {
		fail(CodeTestRepeat, "repeat", "%s programs run once: BPF_PROG_RUN takes no repeat count for them", ps.Type)
	}
	if t.Expect != nil {
		v, err := progtest.ParseVerdict(ps.Type, t.Expect)
		if err != nil {
			fail(CodeTestVerdict, "expect", "%v", err)
		}
		c.Want = v
		if v.TailCall {
			if c.ChainMap = tr.chainMap(p); c.ChainMap == "" {
				fail(CodeTestVerdict, "expect", "TAIL_CALL, but %s tail-calls through no program array of its object", p.Name)
			}
		}
	}
	switch {
	case t.Pcap != "":
		if in != progtest.InputPacket {
			fail(CodeTestInput, "pcap", "%s programs run on a context, not a packet: give context", ps.Type)
		} else {
			c.Packets = tr.capture(field("pcap"), t.Pcap, fail)
		}
	case t.Packet != "":
		if in != progtest.InputPacket {
			fail(CodeTestInput, "packet", "%s programs run on a context, not a packet: give context", ps.Type)
		} else if b, err := progtest.ParseHex(t.Packet, progtest.MaxPacketSize); err != nil {
			fail(CodeTestInput, "packet", "%v", err)
		} else if len(b) < 14 {
			fail(CodeTestInput, "packet", "%d bytes: shorter than an Ethernet header", len(b))
		} else {
			c.Packets = [][]byte{b}
		}
	case t.Context != "":
		if in != progtest.InputContext {
			fail(CodeTestInput, "context", "%s programs run on a packet: give pcap or packet", ps.Type)
		} else if checkRelPath(t.Context) != nil {
			bad = true // reported by checkTests
		} else if f, ok := dc.c.File(t.Context); !ok {
			fail(CodeTestInput, "context", "%q is not in the package", t.Context)
		} else if len(f.Data) > maxContext {
			fail(CodeTestInput, "context", "%q: %d bytes, over the %d-byte limit", t.Context, len(f.Data), maxContext)
		} else {
			c.Context = f.Data
		}
	}
	switch {
	case t.ExpectPcap != "":
		c.WantPackets = tr.capture(field("expect_pcap"), t.ExpectPcap, fail)
	case t.ExpectPacket != "":
		if b, err := progtest.ParseHex(t.ExpectPacket, progtest.MaxPacketSize); err != nil {
			fail(CodeTestInput, "expect_packet", "%v", err)
		} else {
			c.WantPackets = [][]byte{b}
		}
	}
	if len(c.WantPackets) > 0 && len(c.Packets) > 0 && len(c.WantPackets) != len(c.Packets) {
		fail(CodeTestInput, "expect_pcap", "%d expected packets for %d input packets: give one per input", len(c.WantPackets), len(c.Packets))
	}
	order := binary.ByteOrder(binary.LittleEndian)
	if spec.ByteOrder != nil {
		order = spec.ByteOrder
	}
	entries := func(list []TestMapEntry, name string) []progtest.MapEntry {
		var out []progtest.MapEntry
		for j, e := range list {
			f := fmt.Sprintf("%s[%d]", name, j)
			ms := spec.Maps[e.Map]
			if e.Map == "" || e.Key == nil || (e.Absent && (e.Value != nil || name == "maps")) || (!e.Absent && e.Value == nil) {
				bad = true
				continue // reported by checkTests
			}
			if ms == nil || strings.HasPrefix(e.Map, ".") {
				fail(CodeTestMap, f+".map", "the object %s has no map %q (it has %s)", p.Object, e.Map, strings.Join(mapNames(spec), ", "))
				continue
			}
			k, err := progtest.EncodeValue(e.Key, ms.KeySize, ms.Key, order)
			if err != nil {
				fail(CodeTestMapKey, f+".key", "map %s key: %v", e.Map, err)
				continue
			}
			me := progtest.MapEntry{Map: e.Map, Key: k, Absent: e.Absent}
			if e.Value != nil {
				if me.Value, me.Mask, err = progtest.EncodeMasked(e.Value, ms.ValueSize, ms.Value, order); err != nil {
					fail(CodeTestMapValue, f+".value", "map %s value: %v", e.Map, err)
					continue
				}
			}
			out = append(out, me)
		}
		return out
	}
	c.Preload = entries(t.Maps, "maps")
	c.WantMaps = entries(t.ExpectMaps, "expect_maps")
	if in == progtest.InputPacket && len(c.Packets) == 0 {
		bad = true // a vector with no input must never run (and pass)
	}
	return c, !bad
}

// capture reads a capture file of the package for a test.
func (tr *testResolver) capture(field, path string, fail func(code, f, format string, args ...any)) [][]byte {
	short := field[strings.LastIndex(field, ".")+1:]
	if checkRelPath(path) != nil {
		return nil // reported by checkTests
	}
	f, ok := tr.dc.c.File(path)
	if !ok {
		fail(CodeTestInput, short, "%q is not in the package: add the capture, or fix the path", path)
		return nil
	}
	pkts, err := progtest.ReadPackets(f.Data)
	if err != nil {
		fail(CodeTestPcap, short, "%s: %v: capture it again with tcpdump -w (Ethernet, pcap or pcapng)", path, err)
		return nil
	}
	return pkts
}

// chainMap is the program array a TAIL_CALL expectation fills: the
// manifest's map_name, else the one prog array the program tail-calls
// through.
func (tr *testResolver) chainMap(p Program) string {
	spec := tr.specs[p.Object]
	if p.MapName != "" {
		if m := spec.Maps[p.MapName]; m != nil && m.Type == ebpf.ProgramArray {
			return p.MapName
		}
	}
	var arrays []string
	for name, m := range spec.Maps {
		if m.Type == ebpf.ProgramArray {
			arrays = append(arrays, name)
		}
	}
	if len(arrays) == 1 {
		return arrays[0]
	}
	return ""
}

func mapNames(spec *ebpf.CollectionSpec) []string {
	var out []string
	for n := range spec.Maps {
		if !strings.HasPrefix(n, ".") {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}
