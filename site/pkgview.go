package site

import (
	"html/template"
	"slices"
	"strings"

	"github.com/ebpfrepo/ebpfrepo/authenticode"
	"github.com/ebpfrepo/ebpfrepo/bpfobj"
	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

type packageView struct {
	pageBase
	Name        string
	Version     string
	IsLatest    bool   // this version is the package's Latest (index.Package.Latest)
	IsFeatured  bool   // this version is the one the package's main page shows (index.Package.Featured)
	HasLatest   bool   // the package has a stable version
	Latest      string // the featured version: Latest when HasLatest
	LatestHref  string
	Canonical   bool // this is packages/<name>/index.html
	Description string
	Prerelease  bool
	Yanked      *yankView
	Signed      *signedView                   // the package level of the version's signatures, when recorded
	Drivers     []driverView                  // Windows native drivers, as verified offline at build
	Kernel      *pkgfmt.KernelSignatureReport // the signed light-skeleton loader, as verified offline at build
	Added       string
	License     string
	Maintainers []pkgfmt.Maintainer
	Source      string
	Homepage    string
	Keywords    []string
	Platforms   []string
	Types       []string
	Artifact    string
	Readme      template.HTML

	// VersionOptions is the version menu (at most menuSize entries;
	// MoreVersions when it leaves some out). Versions, the table of every
	// version, is on the package's own page (Canonical) only: a version's
	// page links there, so that each page has a bounded size.
	VersionOptions []versionOption
	MoreVersions   bool
	AllVersions    int
	Versions       []versionRow
	Artifacts      []artifactRow

	Programs []programRow
	Maps     []mapRow
	Helpers  []string
	Kfuncs   []string
	Objects  []objectRow
	Portable string // "CO-RE", "BTF, no CO-RE", "no BTF", ""
	Compat   []bpfobj.BTFCompat

	MinKernel       string
	MinKernelBy     string // every feature that sets it
	DeclaredKernel  string
	KernelFeatures  []bpfobj.KernelFeature
	KernelUnknown   []string
	Verified        string
	Verifier        *bpfobj.VerifierReport
	VerifierKernel  string
	Tests           testsView
	Problems        []pkgfmt.Problem
	Files           []fileRow
	GetSnippet      snippet
	MirrorSnippet   snippet
	L3afd           string
	L3afdSkipped    []string
	HasPlaceholders bool
}

type yankView struct {
	Reason string
	At     string
}

type versionOption struct {
	Version  string
	Href     string
	Label    string
	Selected bool
}

type versionRow struct {
	Version    string
	Href       string
	Current    bool
	Added      string
	Platforms  []string
	Size       string
	SHA256     string // of the first artifact
	ShortSHA   string
	Multi      bool // several artifacts: sizes and hashes on the version page
	Prerelease bool
	Yanked     *yankView
}

type artifactRow struct {
	Platform string
	Path     string
	Size     string
	Length   int64
	SHA256   string
}

type programRow struct {
	Name         string
	Object       string
	Section      string
	Type         string // manifest type
	KernelType   string // cilium/ebpf type
	AttachType   string
	AttachTo     string
	Chaining     string
	MapName      string
	Instructions int
	Declared     bool
}

type mapRow struct {
	Object     string
	Name       string
	Type       string
	KeySize    uint32
	ValueSize  uint32
	MaxEntries uint32
	Pinning    string
}

type objectRow struct {
	Path      string
	Size      string
	License   string
	GPLCompat bool
	BTF       bool
	CORE      bool
	Relos     int
}

type fileRow struct {
	Path       string
	Size       string
	Executable bool
	SHA256     string
}

func yank(y *index.Yank) *yankView {
	if y == nil {
		return nil
	}
	return &yankView{Reason: y.Reason, At: formatDate(y.At)}
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// readmeMemo renders a README once per distinct text within memo (the
// canonical page and the latest version's page show the same README,
// and versions often repeat it): Markdown and the sanitiser are the
// costliest part of a page.
func readmeMemo(memo map[string]template.HTML, src string) template.HTML {
	if memo == nil {
		return RenderReadme(src)
	}
	if h, ok := memo[src]; ok {
		return h
	}
	h := RenderReadme(src)
	memo[src] = h
	return h
}

// pkgPages is what every page of one package shares, worked out once
// per package rather than once per page.
type pkgPages struct {
	p                *index.Package
	slugs            []string // file stem of each version's page
	featured, latest int      // index.Package.FeaturedIndex, LatestIndex
	readmes          map[string]template.HTML
}

func newPkgPages(p *index.Package) *pkgPages {
	return &pkgPages{p: p, slugs: versionSlugs(p), featured: p.FeaturedIndex(), latest: p.LatestIndex(),
		readmes: map[string]template.HTML{}}
}

// packageView builds the page of version vi of pp's package. canonical
// is true for packages/<name>/index.html, false for
// packages/<name>/<slug>.html.
func (w *writer) packageView(pp *pkgPages, vi int, canonical bool) *packageView {
	p, slugs := pp.p, pp.slugs
	v := &p.Versions[vi]
	d := v.Describe()
	m := &d.Manifest
	li, latest := pp.featured, pp.latest
	title := p.Name + " " + v.Version
	if canonical {
		title = p.Name
	}
	pv := &packageView{
		pageBase:    w.base("../../", "", title+" · "+w.d.Repository),
		Name:        p.Name,
		Version:     v.Version,
		IsLatest:    vi == latest,
		IsFeatured:  vi == li,
		HasLatest:   latest >= 0,
		Latest:      p.Versions[li].Version,
		LatestHref:  "index.html",
		Canonical:   canonical,
		Description: m.Description,
		Prerelease:  v.Prerelease,
		Yanked:      yank(v.Yanked),
		Signed:      signedOf(v.Signatures),
		Drivers:     driversOf(d.Drivers),
		Kernel:      d.KernelSignature,
		Added:       formatDate(v.Added),
		License:     m.License,
		Maintainers: m.Maintainers,
		Source:      safeURL(m.Source),
		Homepage:    safeURL(m.Homepage),
		Keywords:    sortedUnique(m.Keywords),
		Platforms:   platformsOf(v),
		Types:       programTypes(m),
		Artifact:    m.Artifact,
		Readme:      readmeMemo(pp.readmes, d.Readme),
		Problems:    d.Problems,
	}
	pv.pageBase.Description = m.Description

	pv.AllVersions = len(p.Versions)
	for _, i := range menuVersions(len(p.Versions), vi, latest) {
		o := &p.Versions[i]
		label := o.Version
		switch {
		case i == latest:
			label += " (latest)"
		case o.Yanked != nil:
			label += " (yanked)"
		case o.Prerelease:
			label += " (pre-release)"
		}
		pv.VersionOptions = append(pv.VersionOptions, versionOption{Version: o.Version, Href: slugs[i] + ".html", Label: label, Selected: i == vi})
	}
	pv.MoreVersions = len(pv.VersionOptions) < len(p.Versions)
	if canonical {
		pv.Versions = versionRows(p, slugs, vi)
	}
	for _, a := range v.Artifacts {
		pv.Artifacts = append(pv.Artifacts, artifactRow{
			Platform: a.Platform, Path: a.Path, Size: formatSize(a.Length), Length: a.Length, SHA256: a.SHA256,
		})
	}

	pv.addObjects(d, m)
	pv.addKernel(d, m)
	for _, f := range d.Files {
		pv.Files = append(pv.Files, fileRow{Path: f.Path, Size: formatSize(f.Size), Executable: f.Executable, SHA256: f.SHA256})
	}

	ref := p.Name + "@" + v.Version
	pin := "" // a publisher-signed package: insist on it
	if pv.Signed != nil && pv.Signed.Publisher != "" {
		pin = "  --publisher " + pv.Signed.Publisher + " \\\n"
	}
	pv.GetSnippet = w.snippet("ebpfrepo get \\\n  --repo {repo} \\\n  --root root.json \\\n%s  %s", pin, ref)
	pv.MirrorSnippet = w.snippet("ebpfrepo mirror \\\n  --repo {repo} \\\n  --root root.json \\\n%s  --to %s \\\n  %s", pin, l3afdMirrorDir, ref)
	pv.HasPlaceholders = pv.GetSnippet.Placeholder
	pv.L3afd, pv.L3afdSkipped = l3afdSnippet(p.Name, v.Version, m)
	return pv
}

// addObjects fills the programs, maps and objects tables from the
// inspection report (or, without one, what the manifest declares).
func (pv *packageView) addObjects(d *pkgfmt.Description, m *pkgfmt.Manifest) {
	declared := make(map[[2]string]pkgfmt.Program)
	for _, mp := range m.Programs {
		declared[[2]string{mp.Object, mp.Name}] = mp
	}
	var portable, btf, objs int
	for _, o := range d.Objects {
		objs++
		relos := 0
		for _, pr := range o.Programs {
			relos += pr.CORERelos
			row := programRow{
				Name: pr.Name, Object: o.Path, Section: pr.Section, KernelType: pr.Type,
				AttachType: pr.AttachType, AttachTo: pr.AttachTo, Instructions: pr.Instructions, Chaining: "—",
			}
			if mp, ok := declared[[2]string{o.Path, pr.Name}]; ok {
				row.Declared, row.Type, row.Chaining, row.MapName = true, mp.Type, mp.Chaining, mp.MapName
			}
			pv.Programs = append(pv.Programs, row)
		}
		for _, mr := range o.Maps {
			pv.Maps = append(pv.Maps, mapRow{Object: o.Path, Name: mr.Name, Type: mr.Type, KeySize: mr.KeySize,
				ValueSize: mr.ValueSize, MaxEntries: mr.MaxEntries, Pinning: mr.Pinning})
		}
		pv.Objects = append(pv.Objects, objectRow{Path: o.Path, Size: formatSize(o.Size), License: o.License,
			GPLCompat: o.GPLCompat, BTF: o.BTF, CORE: o.CORE, Relos: relos})
		if o.CORE {
			portable++
		}
		if o.BTF {
			btf++
		}
	}
	if len(d.Objects) == 0 {
		// No inspection report: show what the manifest declares.
		for _, mp := range m.Programs {
			pv.Programs = append(pv.Programs, programRow{Name: mp.Name, Object: mp.Object, Type: mp.Type,
				Chaining: mp.Chaining, MapName: mp.MapName, Declared: true})
		}
	}
	switch {
	case objs == 0:
	case portable == objs:
		pv.Portable = "CO-RE"
	case btf == objs:
		pv.Portable = "BTF"
	default:
		pv.Portable = "none"
	}
}

// addKernel fills the kernel and verifier facts.
func (pv *packageView) addKernel(d *pkgfmt.Description, m *pkgfmt.Manifest) {
	pv.Helpers, pv.Kfuncs = helpersAndKfuncs(d)
	_, pv.MinKernel = minKernel(m.MinKernel, d.Kernel)
	if d.Kernel != nil {
		pv.MinKernelBy = minKernelAll(d.Kernel)
		pv.KernelFeatures = d.Kernel.Features
		pv.KernelUnknown = d.Kernel.Unknown
		pv.Compat = slices.Clone(d.Kernel.Compatible)
	}
	pv.DeclaredKernel = m.MinKernel
	pv.Verified = verifiedText(d.Verifier)
	pv.Tests = testsOf(d)
	if d.Verifier != nil && len(d.Verifier.Programs) > 0 {
		pv.Verifier = d.Verifier
		pv.VerifierKernel = strings.TrimSpace(d.Verifier.Kernel + " " + d.Verifier.Arch)
	}
}

// signedView is a version's package-level signing badge.
type signedView struct {
	Publisher string // "" when only the repository signs
	Role      string
	Key       string                  // the first key id, shortened
	Keyless   *index.KeylessSignature // a keyless publisher's: what the bundle proved at build
	LogURL    string                  // its transparency-log entry
}

func signedOf(s *index.Signatures) *signedView {
	if s == nil {
		return nil
	}
	v := &signedView{Role: s.Package.Role}
	if s.Package.Signer == index.SignerPublisher {
		v.Publisher = s.Package.Publisher
		if len(s.Package.KeyIDs) > 0 {
			v.Key = s.Package.KeyIDs[0][:min(len(s.Package.KeyIDs[0]), 12)]
		}
		if k := s.Package.Keyless; k != nil {
			v.Keyless, v.LogURL = k, index.LogEntryURL(k)
		}
	}
	return v
}

// driverView is one Windows driver as the page shows it: the class, in
// words that never promise more than it is.
type driverView struct {
	Path, Class, Badge, Title, Signer, Root, Authentihash string
	OK                                                    bool
	Programs                                              []string
}

func driversOf(ds []pkgfmt.DriverReport) []driverView {
	var out []driverView
	for _, d := range ds {
		v := driverView{Path: d.Path, Class: string(d.Class), Authentihash: d.Authentihash, Programs: d.Programs}
		switch d.Class {
		case authenticode.ClassProduction:
			v.OK, v.Badge = true, "HVCI: production-signed driver"
			v.Title = "signed for eBPF for Windows' production profile, verified offline at build: loads with HVCI"
		case authenticode.ClassTestSigned:
			v.Badge = "test-signed driver"
			v.Title = "loads only on a machine with test-signing enabled; never under HVCI"
		default:
			v.Badge = "unsigned driver"
			v.Title = "no Authenticode signature: loads nowhere but a test machine"
		}
		for _, sg := range d.Signatures {
			if sg.Class == d.Class {
				v.Signer, v.Root = sg.Subject, sg.Root
				break
			}
		}
		out = append(out, v)
	}
	return out
}

// menuSize bounds the versions the version menu lists, so that a page
// costs the same whatever the number of versions (every page listing
// every version made a package of n versions cost n² rows).
const menuSize = 10

// menuVersions picks the versions the menu of version vi lists, in the
// package's order (newest first): the latest (when there is one) and the
// versions nearest vi, at most menuSize in all.
func menuVersions(n, vi, latest int) []int {
	size := min(n, menuSize)
	lo := min(max(0, vi-size/2), n-size)
	hi := lo + size
	if latest >= 0 && (latest < lo || latest >= hi) {
		// Room for the latest: the window loses the end farther from vi.
		if vi-lo > hi-1-vi {
			lo++
		} else {
			hi--
		}
	}
	out := make([]int, 0, size)
	if latest >= 0 && latest < lo {
		out = append(out, latest)
	}
	for i := lo; i < hi; i++ {
		out = append(out, i)
	}
	if latest >= hi {
		out = append(out, latest)
	}
	return out
}

// versionRows is the table of every version, on the package's own page.
func versionRows(p *index.Package, slugs []string, vi int) []versionRow {
	rows := make([]versionRow, 0, len(p.Versions))
	for i := range p.Versions {
		o := &p.Versions[i]
		row := versionRow{
			Version: o.Version, Href: slugs[i] + ".html", Current: i == vi, Added: formatDate(o.Added),
			Platforms: platformsOf(o), Prerelease: o.Prerelease, Yanked: yank(o.Yanked),
			Multi: len(o.Artifacts) > 1,
		}
		if len(o.Artifacts) > 0 {
			a := o.Artifacts[0]
			row.Size, row.SHA256, row.ShortSHA = formatSize(a.Length), a.SHA256, shortSHA(a.SHA256)
		}
		rows = append(rows, row)
	}
	return rows
}
