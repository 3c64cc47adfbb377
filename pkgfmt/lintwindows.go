// Windows: the native drivers of a package (Authenticode, verified
// offline) and its ELF objects as eBPF for Windows loads them.

package pkgfmt

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/ebpfrepo/ebpfrepo/authenticode"
	"github.com/ebpfrepo/ebpfrepo/bpfobj"
)

// drivers verifies, offline, the Authenticode signatures of every Windows
// native driver the programs name, and of any other .sys in the package
// (reported as undeclared, and verified all the same: it ships).
func (dc *describer) drivers() {
	progs := map[string][]string{}
	var order []string
	if dc.m != nil {
		for i, p := range dc.m.Programs {
			if p.Driver == "" || checkRelPath(p.Driver) != nil {
				continue
			}
			if _, ok := dc.c.File(p.Driver); !ok {
				dc.add(SeverityError, CodeDriverMissing, ManifestFile, fmt.Sprintf("programs[%d].driver", i), p.Name,
					"driver %q is not in the package: add the .sys bpf2c and MSVC made, or fix the path", p.Driver)
				continue
			}
			if _, seen := progs[p.Driver]; !seen {
				order = append(order, p.Driver)
			}
			progs[p.Driver] = append(progs[p.Driver], p.Name)
		}
	}
	for _, f := range dc.c.Files {
		if _, ok := progs[f.Path]; !ok && strings.HasSuffix(strings.ToLower(f.Path), ".sys") {
			dc.add(SeverityWarning, CodeDriverUndeclared, f.Path, "", "", "a driver no program names: name it in a [[programs]] entry's driver, or leave it out")
			progs[f.Path] = []string{}
			order = append(order, f.Path)
		}
	}
	for _, path := range order {
		f, _ := dc.c.File(path)
		rep, err := authenticode.Verify(f.Data, dc.opts.Windows)
		if err != nil {
			code := authenticode.CodeParse
			var ae *authenticode.Error
			if errors.As(err, &ae) {
				code = ae.Code
			}
			dc.add(SeverityError, code, path, "", "", "%v", err)
			continue
		}
		sum := dc.sums[path]
		dc.d.Drivers = append(dc.d.Drivers, DriverReport{Path: path, SHA256: hex.EncodeToString(sum[:]), Authentihash: rep.Authentihash,
			Class: rep.Class, Signatures: rep.Signatures, Programs: nonNilStrings(progs[path]), Sections: peSections(f.Data)})
		for _, i := range rep.Untrusted {
			dc.add(SeverityWarning, "hvci.untrusted-signature", path, "", "", "signature %d (%s) verifies but chains to no root this repository trusts: it does not count", i, rep.Signatures[i].Subject)
		}
	}
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// windowsOnly reports whether the package is for eBPF for Windows only.
func (dc *describer) windowsOnly() bool {
	if dc.m == nil || len(dc.m.Platforms) == 0 {
		return false
	}
	for _, p := range dc.m.Platforms {
		if !strings.EqualFold(p, "Windows") {
			return false
		}
	}
	return true
}

// CodeWindowsUnsupported is a program type, helper or map type that eBPF
// for Windows does not have, in a package that declares Windows.
const CodeWindowsUnsupported = "windows.unsupported"

// windows reports the objects of a Windows-only package as eBPF for
// Windows loads them (its program types, helpers and map types), and
// refuses what it does not have. In a package for Windows and Linux the
// same check is a warning: one ELF rarely runs on both.
func (dc *describer) windows() {
	if dc.m == nil || !containsFold(dc.m.Platforms, "Windows") {
		return
	}
	only := dc.windowsOnly()
	sev := SeverityError
	if !only {
		sev = SeverityWarning
	}
	for i := range dc.d.Objects {
		w, probs := bpfobj.WindowsView(dc.d.Objects[i])
		for _, p := range probs {
			dc.add(sev, CodeWindowsUnsupported, dc.d.Objects[i].Path, "", p.Program, "%s: build it for Windows' program types and helpers, or drop \"Windows\" from platforms", p)
		}
		if only {
			dc.d.Objects[i] = w
		}
	}
}

func peSections(data []byte) []string {
	if s := authenticode.Sections(data); s != nil {
		return s
	}
	return []string{}
}
