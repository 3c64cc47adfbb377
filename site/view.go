package site

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ebpfrepo/ebpfrepo/bpfobj"
	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

// The view models below are what the templates see: plain, sorted data
// computed once from Data, so that the templates hold no logic and the
// output does not depend on map order.

var (
	pkgNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	slugRE    = regexp.MustCompile(`[^0-9A-Za-z.-]`)
)

// repoURLPlaceholder stands for the repository's URL in snippets when
// Data.BaseURL is empty; the page script replaces it with the URL the
// page was served from.
const repoURLPlaceholder = "https://REPOSITORY-URL"

// l3afdMirrorDir is the directory the mirror snippet writes and the l3afd
// entry points at.
const l3afdMirrorDir = "/var/lib/l3afd/repo"

type pageBase struct {
	Title       string
	Description string
	Root        string // relative path to the site root: "" or "../../"
	Assets      assetNames
	Repository  string
	Generated   string
	GeneratedAt string // RFC 3339, for <time datetime>
	Nav         string // "packages" or "trust"
	Packages    int
	// Stats shows the package count and build time in the footer: on
	// the home and trust pages only, so that a package's pages depend on
	// nothing but that package and the repository's name and URL (and
	// need not be rendered again when another package changes).
	Stats bool
}

type homeView struct {
	pageBase
	RepoDescription string
	Items           []homeItem
	Types           []facet
	Platforms       []facet
}

type homeItem struct {
	Name          string
	Href          string
	Latest        string
	Description   string
	Types         []string
	Platforms     []string
	Keywords      []string
	License       string
	MinKernel     string // "5.8"
	MinKernelText string // "5.8 (RingBuf map)", "5.15 (declared by the author)"
	Updated       string // the newest version's added date, "2026-03-01" ("" if unknown)
	Verified      string
	Tests         testsView
	Prerelease    bool
	Yanked        bool
	Versions      int
}

type facet struct {
	Value string
	Count int
}

// searchDoc is one entry of search.json.
type searchDoc struct {
	Name        string   `json:"name"`
	Version     string   `json:"version"`
	Description string   `json:"description"`
	Keywords    []string `json:"keywords"`
	Types       []string `json:"types"`
	Platforms   []string `json:"platforms"`
	Helpers     []string `json:"helpers"`
	Kfuncs      []string `json:"kfuncs"`
	URL         string   `json:"url"`
}

type searchIndex struct {
	Schema     int         `json:"schema"`
	Repository string      `json:"repository"`
	Packages   []searchDoc `json:"packages"`
}

// versionSlug is a version as a file name: semver's '+' and anything
// else outside [0-9A-Za-z.-] become '_' (S3 reads '+' in a path as a
// space).
func versionSlug(v string) string {
	return slugRE.ReplaceAllString(v, "_")
}

func sortedUnique(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}

func programTypes(m *pkgfmt.Manifest) []string {
	var ts []string
	for _, p := range m.Programs {
		if p.Type != "" {
			ts = append(ts, p.Type)
		}
	}
	return sortedUnique(ts)
}

func helpersAndKfuncs(d *pkgfmt.Description) (helpers, kfuncs []string) {
	for _, o := range d.Objects {
		for _, p := range o.Programs {
			helpers = append(helpers, p.Helpers...)
			kfuncs = append(kfuncs, p.Kfuncs...)
		}
	}
	return sortedUnique(helpers), sortedUnique(kfuncs)
}

func platformsOf(v *index.Version) []string {
	var ps []string
	for _, a := range v.Artifacts {
		ps = append(ps, a.Platform)
	}
	if len(ps) == 0 {
		ps = v.Describe().Manifest.Platforms
	}
	return sortedUnique(ps)
}

// featureLabel names a kernel feature briefly: "bpf_loop", "RingBuf map".
func featureLabel(f bpfobj.KernelFeature) string {
	switch f.Kind {
	case bpfobj.FeatureMapType:
		return f.Name + " map"
	case bpfobj.FeatureProgramType:
		return f.Name + " programs"
	case bpfobj.FeatureAttachType:
		return "attach type " + f.Name
	}
	return f.Name
}

// featureRank orders the features that set the minimum kernel by how
// well they explain it to a reader: a map or program type first, a
// helper or kfunc next, object-level capabilities last.
var featureRank = map[string]int{
	bpfobj.FeatureMapType: 0, bpfobj.FeatureProgramType: 1, bpfobj.FeatureAttachType: 2,
	bpfobj.FeatureHelper: 3, bpfobj.FeatureKfunc: 4, bpfobj.FeatureCapability: 5,
}

// minKernelText is "5.8 (RingBuf map)" or "5.8 (RingBuf map and 2 more)",
// or "" when nothing was inferred.
func minKernelText(k *bpfobj.KernelReport) string {
	if k == nil || k.MinVersion == "" {
		return ""
	}
	if len(k.SetBy) == 0 {
		return k.MinVersion
	}
	by := slices.Clone(k.SetBy)
	slices.SortStableFunc(by, func(a, b bpfobj.KernelFeature) int {
		ra, oka := featureRank[a.Kind]
		rb, okb := featureRank[b.Kind]
		if !oka {
			ra = 9
		}
		if !okb {
			rb = 9
		}
		return ra - rb
	})
	text := k.MinVersion + " (" + featureLabel(by[0])
	if len(by) > 1 {
		text += fmt.Sprintf(" and %d more", len(by)-1)
	}
	return text + ")"
}

// minKernel is the kernel a version needs: the stricter of what its
// author declared (min_kernel) and what the objects were inferred to
// need. version is "5.15"; text says what set it: "5.15 (declared by the
// author)" or "5.8 (RingBuf map)". The one rule the card and the page
// both show.
func minKernel(declared string, k *bpfobj.KernelReport) (version, text string) {
	inferred := ""
	if k != nil {
		inferred = k.MinVersion
	}
	dv, derr := bpfobj.ParseKernelVersion(declared)
	iv, ierr := bpfobj.ParseKernelVersion(inferred)
	switch {
	case derr != nil && ierr != nil:
		return "", ""
	case ierr != nil || derr == nil && dv.Compare(iv) >= 0:
		return declared, declared + " (declared by the author)"
	default:
		return inferred, minKernelText(k)
	}
}

// minKernelAll names every feature that sets the minimum kernel.
func minKernelAll(k *bpfobj.KernelReport) string {
	if k == nil {
		return ""
	}
	var names []string
	for _, f := range k.SetBy {
		names = append(names, featureLabel(f))
	}
	return strings.Join(names, ", ")
}

// shortKernel turns a uname release into MAJOR.MINOR: "6.18.0-1-amd64" → "6.18".
func shortKernel(release string) string {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return release
	}
	minor := parts[1]
	if i := strings.IndexFunc(minor, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minor = minor[:i]
	}
	return parts[0] + "." + minor
}

// verifiedText is "6.18 x86_64" when the verifier accepted every program
// it ran and accepted at least one, else "".
func verifiedText(r *bpfobj.VerifierReport) string {
	if r == nil {
		return ""
	}
	accepted := 0
	for _, p := range r.Programs {
		switch p.Status {
		case "accepted":
			accepted++
		case "rejected":
			return ""
		}
	}
	if accepted == 0 {
		return ""
	}
	return strings.TrimSpace(shortKernel(r.Kernel) + " " + r.Arch)
}

func formatSize(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	default:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1024*1024))
	}
}

func formatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02")
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// safeURL returns u if it is an absolute http(s) URL, else "" — manifest
// links are shown only when they cannot run script.
func safeURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	return u
}

func facets(items []homeItem, get func(*homeItem) []string) []facet {
	counts := make(map[string]int)
	for i := range items {
		for _, v := range get(&items[i]) {
			counts[v]++
		}
	}
	out := make([]facet, 0, len(counts))
	for v, n := range counts {
		out = append(out, facet{v, n})
	}
	slices.SortFunc(out, func(a, b facet) int { return strings.Compare(a.Value, b.Value) })
	return out
}

// HomeDescription is what the home page and search.json read of a
// package's featured version's description (home): its manifest's
// description, program types, keywords, license, platforms and declared
// minimum kernel; the helpers and kfuncs its programs call; the inferred
// minimum kernel and what sets it; the verifier's and the test vectors'
// results. A build keeps this much of one description per package once
// the package's pages are written, and remembers it in the package cache
// (repo), instead of the whole description. TestHomeDescription renders
// both ways and compares the bytes: a field home comes to read must be
// kept here.
func HomeDescription(d *pkgfmt.Description) pkgfmt.Description {
	m := &d.Manifest
	h := pkgfmt.Description{
		Manifest: pkgfmt.Manifest{Description: m.Description, Keywords: m.Keywords, License: m.License,
			Platforms: m.Platforms, MinKernel: m.MinKernel},
		Verifier:    d.Verifier,
		TestVectors: d.TestVectors,
		Tests:       d.Tests,
	}
	for _, p := range m.Programs {
		h.Manifest.Programs = append(h.Manifest.Programs, pkgfmt.Program{Type: p.Type})
	}
	for _, o := range d.Objects {
		var ho bpfobj.ObjectReport
		for _, p := range o.Programs {
			if len(p.Helpers) > 0 || len(p.Kfuncs) > 0 {
				ho.Programs = append(ho.Programs, bpfobj.ProgramReport{Helpers: p.Helpers, Kfuncs: p.Kfuncs})
			}
		}
		if ho.Programs != nil {
			h.Objects = append(h.Objects, ho)
		}
	}
	if k := d.Kernel; k != nil {
		h.Kernel = &bpfobj.KernelReport{MinVersion: k.MinVersion, SetBy: k.SetBy}
	}
	return h
}

func (w *writer) home() (*homeView, *searchIndex) {
	hv := &homeView{pageBase: w.base("", "packages", w.d.Repository), RepoDescription: w.d.Description}
	if hv.RepoDescription == "" && w.d.Summary != nil {
		hv.RepoDescription = w.d.Summary.Description
	}
	si := &searchIndex{Schema: 1, Repository: w.d.Repository, Packages: []searchDoc{}}
	for _, p := range w.pkgs {
		if len(p.Versions) == 0 {
			continue
		}
		v := p.Featured()
		d := v.Describe()
		m := &d.Manifest
		item := homeItem{
			Name:        p.Name,
			Href:        layout.PackagePage(p.Name),
			Latest:      v.Version,
			Description: m.Description,
			Types:       programTypes(m),
			Platforms:   platformsOf(v),
			Keywords:    sortedUnique(m.Keywords),
			License:     m.License,
			Verified:    verifiedText(d.Verifier),
			Tests:       testsOf(d),
			Prerelease:  v.Prerelease,
			Yanked:      v.Yanked != nil,
			Versions:    len(p.Versions),
		}
		item.MinKernel, item.MinKernelText = minKernel(m.MinKernel, d.Kernel)
		item.Updated = updatedOf(p)
		hv.Items = append(hv.Items, item)
		helpers, kfuncs := helpersAndKfuncs(d)
		si.Packages = append(si.Packages, searchDoc{
			Name: p.Name, Version: v.Version, Description: m.Description,
			Keywords: nonNil(item.Keywords), Types: nonNil(item.Types), Platforms: nonNil(item.Platforms),
			Helpers: nonNil(helpers), Kfuncs: nonNil(kfuncs), URL: item.Href,
		})
	}
	slices.SortStableFunc(hv.Items, func(a, b homeItem) int { return naturalCompare(a.Name, b.Name) })
	hv.Types = facets(hv.Items, func(i *homeItem) []string { return i.Types })
	hv.Platforms = facets(hv.Items, func(i *homeItem) []string { return i.Platforms })
	return hv, si
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// l3afdEntry is the program entry l3afd's API takes, in l3afd's field order.
type l3afdEntry struct {
	Name              string `json:"name"`
	Version           string `json:"version"`
	Artifact          string `json:"artifact"`
	ObjectFile        string `json:"object_file"`
	EntryFunctionName string `json:"entry_function_name"`
	ProgType          string `json:"prog_type"`
	MapName           string `json:"map_name,omitempty"`
	CmdStart          string `json:"cmd_start,omitempty"`
	CmdStop           string `json:"cmd_stop,omitempty"`
	CmdStatus         string `json:"cmd_status,omitempty"`
	CmdConfig         string `json:"cmd_config,omitempty"`
	CmdUpdate         string `json:"cmd_update,omitempty"`
	RepoURL           string `json:"ebpf_package_repo_url"`
}

// l3afdSnippet renders the l3afd program entries of a version: one object
// for one program, an array for several. Programs of a type l3afd does
// not load are left out and named in skipped.
func l3afdSnippet(name, version string, m *pkgfmt.Manifest) (snippet string, skipped []string) {
	var entries []l3afdEntry
	for _, p := range m.Programs {
		pt := pkgfmt.L3afdProgType(p.Type)
		if pt == "" {
			skipped = append(skipped, p.Name+" ("+p.Type+")")
			continue
		}
		e := l3afdEntry{
			Name: name, Version: version, Artifact: m.Artifact,
			ObjectFile: p.Object, EntryFunctionName: p.Name, ProgType: pt, MapName: p.MapName,
			RepoURL: "file://" + l3afdMirrorDir,
		}
		if m.L3afd != nil {
			e.CmdStart, e.CmdStop, e.CmdStatus = m.L3afd.CmdStart, m.L3afd.CmdStop, m.L3afd.CmdStatus
			e.CmdConfig, e.CmdUpdate = m.L3afd.CmdConfig, m.L3afd.CmdUpdate
		}
		entries = append(entries, e)
	}
	var (
		b   []byte
		err error
	)
	switch len(entries) {
	case 0:
		return "", skipped
	case 1:
		b, err = json.MarshalIndent(entries[0], "", "  ")
	default:
		b, err = json.MarshalIndent(entries, "", "  ")
	}
	if err != nil {
		return "", skipped
	}
	return string(b), skipped
}

// snippet is a shell snippet split around the repository URL, so the
// template can mark a placeholder URL for the page script to replace.
type snippet struct {
	Before, URL, After string
	Placeholder        bool
}

// snippet formats a snippet; "{repo}" in the result stands for the
// repository URL: Data.BaseURL, or the placeholder when it is unknown.
func (w *writer) snippet(format string, args ...any) snippet {
	text := fmt.Sprintf(format, args...)
	before, after, ok := strings.Cut(text, "{repo}")
	if !ok {
		return snippet{Before: text}
	}
	if w.d.BaseURL != "" {
		return snippet{Before: before, URL: strings.TrimRight(w.d.BaseURL, "/"), After: after}
	}
	return snippet{Before: before, URL: repoURLPlaceholder, After: after, Placeholder: true}
}

// updatedOf is the date the package last changed: its newest added date.
func updatedOf(p *index.Package) string {
	var t time.Time
	for i := range p.Versions {
		if a := p.Versions[i].Added; a.After(t) {
			t = a
		}
	}
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02")
}

// naturalCompare orders names as people count: runs of digits by their
// value, so tc-stats-2 comes before tc-stats-10.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := cmpInt(len(na), len(nb)); c != 0 {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return cmpInt(int(a[0]), int(b[0]))
		}
		a, b = a[1:], b[1:]
	}
	return cmpInt(len(a), len(b))
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
