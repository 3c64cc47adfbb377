package index

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

// VersionInput is what the repository knows about one name@version: the
// package description from validation, the facts of its artifact, when
// it was added and whether it is yanked.
type VersionInput struct {
	Description pkgfmt.Description
	Length      int64  // bytes of the artifact
	SHA256      string // lowercase hex sha256 of the artifact
	Added       time.Time
	Yanked      *Yank
	Signatures  *Signatures // nil: not recorded
}

// BuildPackage makes the per-package index of name from its versions:
// newest first, each with one artifact per manifest platform (sorted by
// platform; the same bytes under each platform's path), the added date
// and the yank in UTC whole seconds, and the pre-release flag from the
// semantic version. The inputs are not modified.
func BuildPackage(name string, inputs []VersionInput) *Package {
	p := &Package{Schema: Schema, Name: name, Versions: make([]Version, 0, len(inputs))}
	for _, in := range inputs {
		m := in.Description.Manifest
		d := in.Description
		v := Version{
			Version:     m.Version,
			Added:       utcSeconds(in.Added),
			Description: &d,
			Signatures:  in.Signatures,
		}
		v.Prerelease = IsPrereleaseVersion(m.Version)
		if in.Yanked != nil {
			y := *in.Yanked
			y.At = utcSeconds(y.At)
			v.Yanked = &y
		}
		plats := slices.Clone(m.Platforms)
		slices.Sort(plats)
		plats = slices.Compact(plats)
		v.Artifacts = make([]Artifact, 0, len(plats))
		for _, pl := range plats {
			v.Artifacts = append(v.Artifacts, Artifact{
				Platform: pl,
				Path:     layout.ArtifactTarget(name, m.Version, pl, m.Artifact),
				Length:   in.Length,
				SHA256:   in.SHA256,
			})
		}
		p.Versions = append(p.Versions, v)
	}
	SortVersions(p.Versions)
	return p
}

// Summarize returns the summary line of p, whose index file has the given
// length and sha256. Latest is the package's Latest version ("" when it
// has no stable one); the descriptive fields and program types come from
// its Featured version, named in Featured when that is not Latest;
// platforms are those of every version.
func Summarize(p *Package, indexLength int64, indexSHA256 string) SummaryPackage {
	s := SummaryPackage{
		Name:         p.Name,
		Platforms:    []string{},
		ProgramTypes: []string{},
		Versions:     len(p.Versions),
		Index:        layout.PackageIndexTarget(p.Name),
		IndexLength:  indexLength,
		IndexSHA256:  indexSHA256,
	}
	v := p.Featured()
	if v == nil {
		return s
	}
	m := v.Describe().Manifest
	if l := p.Latest(); l != nil {
		s.Latest = l.Version
	} else {
		s.Featured = v.Version
	}
	s.Description = m.Description
	s.Keywords = slices.Clone(m.Keywords)
	s.License = m.License
	for _, pr := range m.Programs {
		s.ProgramTypes = append(s.ProgramTypes, pr.Type)
	}
	slices.Sort(s.ProgramTypes)
	s.ProgramTypes = slices.Compact(s.ProgramTypes)
	for i := range p.Versions {
		s.Platforms = append(s.Platforms, p.Versions[i].Platforms()...)
	}
	slices.Sort(s.Platforms)
	s.Platforms = slices.Compact(s.Platforms)
	return s
}

// BuildSummary makes the summary index from the packages' summary lines,
// sorted by name. The input slice is not modified.
func BuildSummary(repository, description string, pkgs []SummaryPackage) *Summary {
	s := &Summary{Schema: Schema, Repository: repository, Description: description, Packages: slices.Clone(pkgs)}
	if s.Packages == nil {
		s.Packages = []SummaryPackage{}
	}
	slices.SortFunc(s.Packages, func(a, b SummaryPackage) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return s
}

// Marshal returns the bytes of an index file (a *Package or a *Summary):
// compact JSON without HTML escaping and with a final newline. The same
// value always gives the same bytes.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("index: encode: %w", err)
	}
	return buf.Bytes(), nil
}

func utcSeconds(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Second)
}
