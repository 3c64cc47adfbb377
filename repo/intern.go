package repo

import (
	"unique"

	"github.com/ebpfrepo/ebpfrepo/bpfobj"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

// Thousands of versions repeat the same helper, map, type, license and
// kernel-feature strings, and a build holds the featured version's
// description of every package until the catalogue is written, so equal
// strings are shared (unique.Make). Safe for concurrent use.
type interner struct{}

func (interner) s(p *string) {
	if *p != "" {
		*p = unique.Make(*p).Value()
	}
}

func (in interner) all(ss []string) {
	for i := range ss {
		in.s(&ss[i])
	}
}

// internDescription interns the repetitive strings of d (not the digests
// and the README, which rarely repeat).
func internDescription(d *pkgfmt.Description) {
	var in interner
	m := &d.Manifest
	for _, p := range []*string{&m.Name, &m.Description, &m.License, &m.Readme, &m.Source, &m.Homepage, &m.Artifact, &m.MinKernel} {
		in.s(p)
	}
	in.all(m.Keywords)
	in.all(m.Platforms)
	for i := range m.Maintainers {
		in.s(&m.Maintainers[i].Name)
		in.s(&m.Maintainers[i].Email)
	}
	for i := range m.Programs {
		p := &m.Programs[i]
		for _, s := range []*string{&p.Name, &p.Object, &p.Type, &p.Chaining, &p.MapName} {
			in.s(s)
		}
	}
	for i := range d.Objects {
		o := &d.Objects[i]
		in.s(&o.Path)
		in.s(&o.License)
		in.s(&o.ByteOrder)
		in.all(o.DataSections)
		for j := range o.Programs {
			p := &o.Programs[j]
			for _, s := range []*string{&p.Name, &p.Section, &p.Type, &p.AttachType, &p.AttachTo} {
				in.s(s)
			}
			in.all(p.Helpers)
			in.all(p.Kfuncs)
			in.all(p.Calls)
			in.all(p.TailCalls)
			in.all(p.Maps)
		}
		for j := range o.Maps {
			in.s(&o.Maps[j].Name)
			in.s(&o.Maps[j].Type)
			in.s(&o.Maps[j].Pinning)
		}
	}
	for i := range d.Files {
		in.s(&d.Files[i].Path)
	}
	if k := d.Kernel; k != nil {
		in.s(&k.MinVersion)
		in.all(k.Unknown)
		for _, fs := range [][]bpfobj.KernelFeature{k.SetBy, k.Features} {
			for i := range fs {
				for _, s := range []*string{&fs[i].Kind, &fs[i].Name, &fs[i].Version, &fs[i].Source} {
					in.s(s)
				}
			}
		}
		for i := range k.Compatible {
			c := &k.Compatible[i]
			for _, s := range []*string{&c.Kernel, &c.Object, &c.Program, &c.Reason} {
				in.s(s)
			}
		}
	}
	if v := d.Verifier; v != nil {
		in.s(&v.Kernel)
		in.s(&v.Arch)
		for i := range v.Programs {
			p := &v.Programs[i]
			for _, s := range []*string{&p.Object, &p.Program, &p.Status, &p.Reason} {
				in.s(s)
			}
		}
	}
	for i := range d.Problems {
		p := &d.Problems[i]
		for _, s := range []*string{&p.Package, &p.File, &p.Field, &p.Program, &p.Code, &p.Message} {
			in.s(s)
		}
	}
}
