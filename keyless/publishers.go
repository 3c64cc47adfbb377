package keyless

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/ebpfrepo/ebpfrepo/internal/pkgpattern"
)

// PublishersSchema is the version of the publishers.json format.
const PublishersSchema = 1

// Size limits of what this package parses: the files come from
// strangers (a bundle from an author, the files from a server).
const (
	MaxPublishersSize = 1 << 20   // publishers.json
	MaxTrustRootSize  = 1 << 20   // trusted_root.json
	MaxBundleSize     = 256 << 10 // a bundle (a few KB in practice)
	maxIdentities     = 64        // per publisher
	maxPublishers     = 4096
)

// Publishers is publishers.json: the keyless publishers and what each
// may sign. It is a target of the top-level targets role (offline).
type Publishers struct {
	Schema     int         `json:"schema"`
	Publishers []Publisher `json:"publishers"`
}

// Publisher is a keyless grant: the packages whose artifacts only a
// bundle from one of Identities may vouch for.
type Publisher struct {
	Name       string     `json:"name"`
	Identities []Identity `json:"identities"`
	Packages   []string   `json:"packages"` // package names, or "prefix*"
}

// Identity is who may sign: the certificate's subject alternative name
// (exact, or an anchored regular expression) and its OIDC issuer (exact).
type Identity struct {
	SAN       string `json:"san,omitempty"`
	SANRegexp string `json:"san_regexp,omitempty"` // matched whole: ^(?:…)$
	Issuer    string `json:"issuer"`
}

func (id Identity) String() string {
	if id.SAN != "" {
		return fmt.Sprintf("%s (issuer %s)", id.SAN, id.Issuer)
	}
	return fmt.Sprintf("/%s/ (issuer %s)", id.SANRegexp, id.Issuer)
}

// matchSAN reports whether san is the identity's subject.
func (id Identity) matchSAN(san string) bool {
	if id.SAN != "" {
		return san == id.SAN
	}
	re, err := anchored(id.SANRegexp)
	return err == nil && re.MatchString(san)
}

// anchored compiles a pattern that must match the whole subject.
func anchored(expr string) (*regexp.Regexp, error) {
	return regexp.Compile(`^(?:` + expr + `)$`)
}

// Check validates one grant on its own.
func (p Publisher) Check() error {
	if !pkgpattern.ValidPublisher(p.Name) {
		return fmt.Errorf("publisher %q: not a valid name ([a-z0-9][a-z0-9_-]{0,62})", p.Name)
	}
	if len(p.Identities) == 0 || len(p.Identities) > maxIdentities {
		return fmt.Errorf("publisher %s: %d identities (want 1 to %d)", p.Name, len(p.Identities), maxIdentities)
	}
	for _, id := range p.Identities {
		switch {
		case (id.SAN == "") == (id.SANRegexp == ""):
			return fmt.Errorf("publisher %s: an identity has exactly one of san and san_regexp", p.Name)
		case id.Issuer == "":
			return fmt.Errorf("publisher %s: identity %s: no issuer (GitHub Actions: https://token.actions.githubusercontent.com)", p.Name, id)
		case len(id.SAN)+len(id.SANRegexp)+len(id.Issuer) > 1024:
			return fmt.Errorf("publisher %s: identity longer than 1024 bytes", p.Name)
		}
		if id.SANRegexp != "" {
			if _, err := anchored(id.SANRegexp); err != nil {
				return fmt.Errorf("publisher %s: san_regexp %q: %v", p.Name, id.SANRegexp, err)
			}
		}
	}
	if len(p.Packages) == 0 {
		return fmt.Errorf("publisher %s: no package granted", p.Name)
	}
	for _, pat := range p.Packages {
		if !pkgpattern.Valid(pat) {
			return fmt.Errorf("publisher %s: package pattern %q: want a package name or a prefix followed by \"*\"", p.Name, pat)
		}
	}
	return nil
}

// Claims reports whether the grant covers package name.
func (p Publisher) Claims(name string) bool {
	return slices.ContainsFunc(p.Packages, func(pat string) bool { return pkgpattern.Claims(pat, name) })
}

// ClaimOf returns the grant that claims package name, if any.
func (ps *Publishers) ClaimOf(name string) (Publisher, bool) {
	if ps == nil {
		return Publisher{}, false
	}
	for _, p := range ps.Publishers {
		if p.Claims(name) {
			return p, true
		}
	}
	return Publisher{}, false
}

// ErrOverlap is wrapped by a grant whose packages another publisher
// already holds.
var ErrOverlap = errors.New("overlaps another publisher's grant")

// With returns a copy of ps with p added, replacing the publisher's
// earlier grant. A grant overlapping another keyless publisher's is
// refused.
func (ps *Publishers) With(p Publisher) (*Publishers, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	out := &Publishers{Schema: PublishersSchema}
	if ps != nil {
		for _, o := range ps.Publishers {
			if o.Name == p.Name {
				continue
			}
			for _, a := range p.Packages {
				for _, b := range o.Packages {
					if pkgpattern.Overlap(a, b) {
						return nil, fmt.Errorf("publisher %s: %w: %q and %s's %q", p.Name, ErrOverlap, a, o.Name, b)
					}
				}
			}
			out.Publishers = append(out.Publishers, o)
		}
	}
	out.Publishers = append(out.Publishers, p)
	slices.SortFunc(out.Publishers, func(a, b Publisher) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Without returns a copy of ps without publisher name, and whether it
// was there.
func (ps *Publishers) Without(name string) (*Publishers, bool) {
	out := &Publishers{Schema: PublishersSchema}
	found := false
	if ps != nil {
		for _, o := range ps.Publishers {
			if o.Name == name {
				found = true
				continue
			}
			out.Publishers = append(out.Publishers, o)
		}
	}
	return out, found
}

// ParsePublishers reads publishers.json, refusing unknown fields, a
// newer schema and any invalid or overlapping grant.
func ParsePublishers(data []byte) (*Publishers, error) {
	if len(data) > MaxPublishersSize {
		return nil, fmt.Errorf("publishers.json: %d bytes, more than the limit of %d", len(data), MaxPublishersSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var ps Publishers
	if err := dec.Decode(&ps); err != nil {
		return nil, fmt.Errorf("publishers.json: %w", err)
	}
	if dec.More() {
		return nil, errors.New("publishers.json: data after the JSON object")
	}
	if ps.Schema != PublishersSchema {
		return nil, fmt.Errorf("publishers.json: schema %d, this ebpfrepo reads schema %d (upgrade ebpfrepo)", ps.Schema, PublishersSchema)
	}
	if len(ps.Publishers) > maxPublishers {
		return nil, fmt.Errorf("publishers.json: %d publishers, more than the limit of %d", len(ps.Publishers), maxPublishers)
	}
	var out *Publishers = &Publishers{Schema: PublishersSchema}
	for _, p := range ps.Publishers {
		if slices.ContainsFunc(out.Publishers, func(o Publisher) bool { return o.Name == p.Name }) {
			return nil, fmt.Errorf("publishers.json: publisher %s listed twice", p.Name)
		}
		next, err := out.With(p)
		if err != nil {
			return nil, fmt.Errorf("publishers.json: %w", err)
		}
		out = next
	}
	return out, nil
}

// Marshal is the canonical publishers.json: sorted by name, indented,
// the same bytes for the same grants.
func (ps *Publishers) Marshal() ([]byte, error) {
	c := Publishers{Schema: PublishersSchema, Publishers: []Publisher{}}
	if ps != nil {
		c.Publishers = append(c.Publishers, ps.Publishers...)
	}
	slices.SortFunc(c.Publishers, func(a, b Publisher) int { return strings.Compare(a.Name, b.Name) })
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}
