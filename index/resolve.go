package index

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/ebpfrepo/ebpfrepo/internal/suggest"
)

// ConstraintError reports a version constraint that does not parse.
type ConstraintError struct {
	Package    string
	Constraint string
	Err        error
}

func (e *ConstraintError) Error() string {
	return fmt.Sprintf("package %s: constraint %q: %v", e.Package, e.Constraint, e.Err)
}

func (e *ConstraintError) Unwrap() error { return e.Err }

// NoMatchError reports that no published version satisfies a constraint.
// Available lists the versions that resolution considered, newest first.
type NoMatchError struct {
	Package    string
	Constraint string
	Available  []string
	// Yanked lists yanked versions the constraint would match, and
	// Prereleases pre-releases it would match if it named them: what the
	// user probably wanted, and how to get it.
	Yanked      []string
	Prereleases []string
}

func (e *NoMatchError) Error() string {
	var s string
	switch {
	case len(e.Available) == 0 && len(e.Yanked) == 0 && len(e.Prereleases) == 0:
		s = fmt.Sprintf("package %s: no version matches %q (no versions published)", e.Package, e.Constraint)
	case len(e.Available) == 0:
		s = fmt.Sprintf("package %s: no version matches %q", e.Package, e.Constraint)
	default:
		s = fmt.Sprintf("package %s: no version matches %q (available: %s)", e.Package, e.Constraint, strings.Join(e.Available, ", "))
	}
	if len(e.Yanked) > 0 {
		s += fmt.Sprintf("; yanked: %s (ranges and latest skip yanked versions; ask for one exactly, %s@%s, to get it anyway)", strings.Join(e.Yanked, ", "), e.Package, e.Yanked[0])
	}
	if len(e.Prereleases) > 0 {
		s += fmt.Sprintf("; pre-releases: %s (selected only when named: %s@%s)", strings.Join(e.Prereleases, ", "), e.Package, e.Prereleases[0])
	}
	return s
}

// PlatformError reports that no version the constraint selects is built
// for the requested platform. Supported lists the platforms those
// versions are built for: asking for one of them succeeds.
type PlatformError struct {
	Package    string
	Constraint string // as given ("" and "*" are "latest")
	Version    string // the newest version that matched the constraint
	Platform   string
	Supported  []string
}

// suggestion is a supported platform the asked one is probably a typo of.
func (e *PlatformError) suggestion() string {
	if s := suggest.Nearest(e.Platform, e.Supported); s != "" && s != e.Platform {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

func (e *PlatformError) Error() string {
	sup := strings.Join(e.Supported, ", ")
	if sup == "" {
		sup = "none"
	}
	if IsLatest(e.Constraint) {
		return fmt.Sprintf("package %s: no stable version is built for platform %q (latest is %s; supported: %s)%s", e.Package, e.Platform, e.Version, sup, e.suggestion())
	}
	if _, err := semver.StrictNewVersion(strings.TrimPrefix(e.Constraint, "=")); err == nil {
		return fmt.Sprintf("package %s@%s: not built for platform %q (supported: %s)%s", e.Package, e.Version, e.Platform, sup, e.suggestion())
	}
	return fmt.Sprintf("package %s: no version matching %q is built for platform %q (newest match %s; supported: %s)%s", e.Package, e.Constraint, e.Platform, e.Version, sup, e.suggestion())
}

// IsLatest reports whether constraint asks for the newest stable version.
func IsLatest(constraint string) bool {
	c := strings.TrimSpace(constraint)
	return c == "" || c == "latest" || c == "*"
}

// SortVersions orders versions newest first by semantic version precedence.
// Versions that do not parse sort last, by string.
func SortVersions(vs []Version) {
	slices.SortStableFunc(vs, func(a, b Version) int { return compareVersions(b.Version, a.Version) })
}

// CompareVersions compares two version strings by semantic version
// precedence (-1, 0, +1); strings that do not parse sort below versions
// that do, by string.
func CompareVersions(a, b string) int { return compareVersions(a, b) }

// compareVersions compares two version strings by semver precedence.
func compareVersions(a, b string) int {
	va, erra := semver.StrictNewVersion(a)
	vb, errb := semver.StrictNewVersion(b)
	switch {
	case erra == nil && errb == nil:
		if c := va.Compare(vb); c != 0 {
			return c
		}
		return strings.Compare(a, b) // build metadata: stable order
	case erra == nil:
		return 1
	case errb == nil:
		return -1
	}
	return strings.Compare(a, b)
}

// Lookup returns the version with exactly this version string, or nil.
func (p *Package) Lookup(version string) *Version {
	for i := range p.Versions {
		if p.Versions[i].Version == version {
			return &p.Versions[i]
		}
	}
	return nil
}

// Artifact returns the artifact of v for platform, or nil.
func (v *Version) Artifact(platform string) *Artifact {
	for i := range v.Artifacts {
		if v.Artifacts[i].Platform == platform {
			return &v.Artifacts[i]
		}
	}
	return nil
}

// Platforms returns the platforms v is built for, sorted.
func (v *Version) Platforms() []string {
	ps := make([]string, 0, len(v.Artifacts))
	for _, a := range v.Artifacts {
		ps = append(ps, a.Platform)
	}
	slices.Sort(ps)
	return slices.Compact(ps)
}

// Resolve picks the version of p that a constraint selects for a platform.
//
// The constraint is an exact version ("1.2.0", "=1.2.0"), a range in the
// syntax of github.com/Masterminds/semver ("^1.2", "~1.2", ">=1.0 <2",
// "1.x"), or "latest" (also "" and "*"). An exact version selects that
// version even when it is yanked or a pre-release. Ranges never select
// yanked versions, and select pre-releases only when the range itself
// names one ("^2.0.0-rc.1"). "latest" is the newest stable, non-yanked
// version. Among the versions a constraint admits, Resolve returns the
// newest one built for platform; an empty platform accepts any.
func (p *Package) Resolve(constraint, platform string) (*Version, *Artifact, error) {
	c := strings.TrimSpace(constraint)
	exact := strings.TrimPrefix(c, "=")
	if _, err := semver.StrictNewVersion(exact); err == nil {
		v := p.Lookup(exact)
		if v == nil {
			return nil, nil, &NoMatchError{Package: p.Name, Constraint: c, Available: p.versionList(false)}
		}
		return pickPlatform(p.Name, c, []*Version{v}, platform)
	}

	var match func(*Version) bool
	if IsLatest(c) {
		match = func(v *Version) bool { return !v.IsPrerelease() }
	} else {
		cons, err := semver.NewConstraint(c)
		if err != nil {
			return nil, nil, &ConstraintError{Package: p.Name, Constraint: c, Err: err}
		}
		named := namedPrereleases(c)
		match = func(v *Version) bool {
			sv, err := semver.StrictNewVersion(v.Version)
			if err != nil || !cons.Check(sv) {
				return false
			}
			// A pre-release only when the constraint names a pre-release
			// of the same major.minor.patch (as npm does): "^2.0.0-rc.1"
			// admits 2.0.0-rc.2 but not 2.1.0-beta.1.
			return !v.IsPrerelease() || named[coreOf(sv)]
		}
	}
	var cands []*Version
	for i := range p.Versions {
		v := &p.Versions[i]
		if v.Yanked == nil && match(v) {
			cands = append(cands, v)
		}
	}
	if len(cands) == 0 {
		e := &NoMatchError{Package: p.Name, Constraint: c, Available: p.versionList(true)}
		for i := range p.Versions {
			v := &p.Versions[i]
			switch {
			case v.Yanked != nil && match(v):
				e.Yanked = append(e.Yanked, v.Version)
			case v.Yanked == nil && v.IsPrerelease() && !match(v) && prereleaseWouldMatch(c, v):
				e.Prereleases = append(e.Prereleases, v.Version)
			}
		}
		slices.SortFunc(e.Yanked, func(a, b string) int { return compareVersions(b, a) })
		slices.SortFunc(e.Prereleases, func(a, b string) int { return compareVersions(b, a) })
		return nil, nil, e
	}
	slices.SortStableFunc(cands, func(a, b *Version) int { return compareVersions(b.Version, a.Version) })
	return pickPlatform(p.Name, c, cands, platform)
}

// prereleaseWouldMatch reports whether constraint c (latest, or a range)
// would select pre-release v if it named v's pre-release: "^2.0" and
// 2.0.0-rc.1.
func prereleaseWouldMatch(c string, v *Version) bool {
	sv, err := semver.StrictNewVersion(v.Version)
	if err != nil {
		return false
	}
	if IsLatest(c) {
		return true
	}
	core, err := semver.NewVersion(coreOf(sv))
	if err != nil {
		return false
	}
	cons, err := semver.NewConstraint(c)
	return err == nil && cons.Check(core)
}

// prereleaseRE finds the versions with a pre-release part a constraint
// names (with an optional "v").
var prereleaseRE = regexp.MustCompile(`v?(\d+)\.(\d+)\.(\d+)-[0-9A-Za-z.-]+`)

// namedPrereleases returns the major.minor.patch of every pre-release
// version named in constraint.
func namedPrereleases(constraint string) map[string]bool {
	out := map[string]bool{}
	for _, m := range prereleaseRE.FindAllStringSubmatch(constraint, -1) {
		if sv, err := semver.NewVersion(m[1] + "." + m[2] + "." + m[3]); err == nil {
			out[coreOf(sv)] = true
		}
	}
	return out
}

func coreOf(v *semver.Version) string {
	return fmt.Sprintf("%d.%d.%d", v.Major(), v.Minor(), v.Patch())
}

// pickPlatform returns the first candidate (newest first) built for
// platform; when none is, the error lists the platforms of every
// candidate.
func pickPlatform(name, constraint string, cands []*Version, platform string) (*Version, *Artifact, error) {
	for _, v := range cands {
		if platform == "" {
			if len(v.Artifacts) == 0 {
				continue
			}
			return v, &v.Artifacts[0], nil
		}
		if a := v.Artifact(platform); a != nil {
			return v, a, nil
		}
	}
	var supported []string
	for _, v := range cands {
		supported = append(supported, v.Platforms()...)
	}
	slices.Sort(supported)
	return nil, nil, &PlatformError{Package: name, Constraint: constraint, Version: cands[0].Version, Platform: platform, Supported: slices.Compact(supported)}
}

// versionList lists version strings newest first; withoutYanked drops
// yanked versions.
func (p *Package) versionList(withoutYanked bool) []string {
	var out []string
	for _, v := range p.Versions {
		if withoutYanked && v.Yanked != nil {
			continue
		}
		out = append(out, v.Version)
	}
	slices.SortStableFunc(out, func(a, b string) int { return compareVersions(b, a) })
	return out
}
