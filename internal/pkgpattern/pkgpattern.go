package pkgpattern

import (
	"regexp"
	"strings"
)

var (
	patternRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}\*?$`)
	publisherRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
)

// ValidPublisher reports whether name is a publisher's name (keyed or
// keyless): like a package name.
func ValidPublisher(name string) bool { return publisherRE.MatchString(name) }

// Valid reports whether pattern is a package name or "prefix*".
func Valid(pattern string) bool { return patternRE.MatchString(pattern) }

// Claims reports whether pattern covers package name.
func Claims(pattern, name string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(name, prefix)
	}
	return pattern == name
}

// Overlap reports whether some package name matches both patterns.
func Overlap(a, b string) bool {
	pa, wa := strings.CutSuffix(a, "*")
	pb, wb := strings.CutSuffix(b, "*")
	switch {
	case wa && wb:
		return strings.HasPrefix(pa, pb) || strings.HasPrefix(pb, pa)
	case wa:
		return strings.HasPrefix(pb, pa)
	case wb:
		return strings.HasPrefix(pa, pb)
	}
	return pa == pb
}
