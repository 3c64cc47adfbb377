package index

import "github.com/Masterminds/semver/v3"

// The rules of which version is what. Every caller — resolution, the
// all.json summary, the catalogue, the plain l3afd tree's latest/, the
// client's mirror and proxy, the CLI — asks these, so a package has one
// answer everywhere.
//
//   - A version is a pre-release when its semantic version has a
//     pre-release part ("2.0.0-rc.1").
//   - A version is stable when it is neither a pre-release nor yanked.
//   - Latest is the newest stable version: what "latest" resolves to and
//     what l3afd/<name>/latest/ holds. A package may have none.
//   - Featured is the version that stands for the package where one must
//     be shown (its summary line, its catalogue page): Latest, else the
//     newest version not yanked, else the newest.

// IsPrereleaseVersion reports whether a version string has a semantic
// version pre-release part.
func IsPrereleaseVersion(version string) bool {
	sv, err := semver.StrictNewVersion(version)
	return err == nil && sv.Prerelease() != ""
}

// IsStable reports whether a version, yanked as y says, is stable: not a
// pre-release and not yanked.
func IsStable(version string, y *Yank) bool {
	return y == nil && !IsPrereleaseVersion(version)
}

// IsPrerelease reports whether v is a pre-release.
func (v *Version) IsPrerelease() bool { return v.Prerelease || IsPrereleaseVersion(v.Version) }

// IsStable reports whether v is neither a pre-release nor yanked.
func (v *Version) IsStable() bool { return v.Yanked == nil && !v.IsPrerelease() }

// Latest returns the newest stable version, or nil when there is none.
func (p *Package) Latest() *Version {
	if i := p.LatestIndex(); i >= 0 {
		return &p.Versions[i]
	}
	return nil
}

// LatestIndex is the index in p.Versions of Latest, or -1.
func (p *Package) LatestIndex() int {
	return p.newest(func(v *Version) bool { return v.IsStable() })
}

// Featured returns the version that stands for the package: Latest, else
// the newest version not yanked, else the newest; nil only when p has no
// versions.
func (p *Package) Featured() *Version {
	if i := p.FeaturedIndex(); i >= 0 {
		return &p.Versions[i]
	}
	return nil
}

// FeaturedIndex is the index in p.Versions of Featured, or -1.
func (p *Package) FeaturedIndex() int {
	if i := p.LatestIndex(); i >= 0 {
		return i
	}
	if i := p.newest(func(v *Version) bool { return v.Yanked == nil }); i >= 0 {
		return i
	}
	return p.newest(func(*Version) bool { return true })
}

// newest returns the index of the newest version that ok admits, or -1.
func (p *Package) newest(ok func(*Version) bool) int {
	best := -1
	for i := range p.Versions {
		v := &p.Versions[i]
		if ok(v) && (best < 0 || compareVersions(v.Version, p.Versions[best].Version) > 0) {
			best = i
		}
	}
	return best
}
