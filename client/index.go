// The signed index: search, the summary and each package's index file,
// fetched through TUF and checked before use.

package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/internal/suggest"
	"github.com/ebpfrepo/ebpfrepo/layout"
)

// Search returns the packages of the signed summary (index/all.json)
// whose name, keywords, program types or description contain term
// (case-insensitive), best match first: the exact name, then names that
// start with term, names that contain it, an exact keyword or program
// type, keywords that contain it, and last descriptions that do; ties
// keep the summary's order (by name). An empty term returns every package.
func (c *Client) Search(ctx context.Context, term string) ([]index.SummaryPackage, error) {
	s, err := c.Summary(ctx)
	if err != nil {
		return nil, err
	}
	term = strings.ToLower(strings.TrimSpace(term))
	type hit struct {
		p    index.SummaryPackage
		rank int
	}
	var hits []hit
	for _, p := range s.Packages {
		if r := matchRank(p, term); r >= 0 {
			hits = append(hits, hit{p, r})
		}
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return a.rank - b.rank })
	out := make([]index.SummaryPackage, 0, len(hits))
	for _, h := range hits {
		out = append(out, h.p)
	}
	return out, nil
}

// matchRank is how well p matches term (lower is better), or -1.
func matchRank(p index.SummaryPackage, term string) int {
	if term == "" {
		return 0
	}
	name := strings.ToLower(p.Name)
	tags := slices.Concat(p.Keywords, p.ProgramTypes)
	switch {
	case name == term:
		return 0
	case strings.HasPrefix(name, term):
		return 1
	case strings.Contains(name, term):
		return 2
	case slices.ContainsFunc(tags, func(k string) bool { return strings.EqualFold(k, term) }):
		return 3
	case slices.ContainsFunc(tags, func(k string) bool { return strings.Contains(strings.ToLower(k), term) }):
		return 4
	case strings.Contains(strings.ToLower(p.Description), term):
		return 5
	}
	return -1
}

// Summary returns the verified summary of all packages (index/all.json).
func (c *Client) Summary(ctx context.Context) (*index.Summary, error) {
	data, _, err := c.target(ctx, layout.SummaryTarget)
	if err != nil {
		return nil, err
	}
	var s index.Summary
	if err := decodeIndex(layout.SummaryTarget, data, &s, &s.Schema); err != nil {
		return nil, err
	}
	return &s, nil
}

// Info returns the verified index of one package: every version, its
// platforms and artifacts, yanked state and inspection report.
func (c *Client) Info(ctx context.Context, name string) (*index.Package, error) {
	p, _, err := c.info(ctx, name)
	return p, err
}

// info is Info and the session that vouched for the index.
func (c *Client) info(ctx context.Context, name string) (*index.Package, *Updater, error) {
	data, up, err := c.packageIndexBytes(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	var p index.Package
	tp := layout.PackageIndexTarget(name)
	if err := decodeIndex(tp, data, &p, &p.Schema); err != nil {
		return nil, nil, err
	}
	if err := checkPackage(tp, name, &p); err != nil {
		return nil, nil, err
	}
	for _, v := range p.Versions {
		if v.Description == nil {
			return nil, nil, &IndexError{Target: tp, Field: fmt.Sprintf("versions[%s].description", v.Version), Msg: "missing"}
		}
	}
	return &p, up, nil
}

// packageIndexBytes fetches the verified bytes of index/<name>.json; an
// unknown package's *NotFoundError suggests the nearest name.
func (c *Client) packageIndexBytes(ctx context.Context, name string) ([]byte, *Updater, error) {
	if err := checkComponent("name", name); err != nil {
		return nil, nil, fmt.Errorf("package %q: %w", name, err)
	}
	data, up, err := c.target(ctx, layout.PackageIndexTarget(name))
	if err != nil {
		var nf *NotFoundError
		if errors.As(err, &nf) {
			nf.Package = name
			if s, serr := c.Summary(ctx); serr == nil {
				names := make([]string, len(s.Packages))
				for i, p := range s.Packages {
					names[i] = p.Name
				}
				nf.Suggestion = suggest.Nearest(name, names)
			}
		}
		return nil, nil, err
	}
	return data, up, nil
}

// releases is index/<name>.json without the descriptions: its versions'
// releases, which is all Check needs (decoding the descriptions of every
// version of every package was most of its time and memory).
func (c *Client) releases(ctx context.Context, name string) (*index.Package, error) {
	data, _, err := c.packageIndexBytes(ctx, name)
	if err != nil {
		return nil, err
	}
	return decodeReleases(layout.PackageIndexTarget(name), name, data)
}

// decodeReleases decodes the verified index file of package name (at
// target path tp) without its descriptions.
func decodeReleases(tp, name string, data []byte) (*index.Package, error) {
	var lean struct {
		Schema   int    `json:"schema"`
		Name     string `json:"name"`
		Versions []struct {
			Version    string           `json:"version"`
			Prerelease bool             `json:"prerelease"`
			Yanked     *index.Yank      `json:"yanked"`
			Artifacts  []index.Artifact `json:"artifacts"`
		} `json:"versions"`
	}
	if err := decodeIndex(tp, data, &lean, &lean.Schema); err != nil {
		return nil, err
	}
	p := &index.Package{Schema: lean.Schema, Name: lean.Name, Versions: make([]index.Version, len(lean.Versions))}
	// A check holds thousands of these at once: the platforms of a version
	// usually ship the same bytes, and a package has few platforms, so
	// their strings are shared (a third of the releases' strings).
	plats := map[string]string{}
	for i, v := range lean.Versions {
		for k := range v.Artifacts {
			a := &v.Artifacts[k]
			if k > 0 && a.SHA256 == v.Artifacts[k-1].SHA256 {
				a.SHA256 = v.Artifacts[k-1].SHA256
			}
			if s, ok := plats[a.Platform]; ok {
				a.Platform = s
			} else {
				plats[a.Platform] = a.Platform
			}
		}
		p.Versions[i] = index.Version{Version: v.Version, Prerelease: v.Prerelease, Yanked: v.Yanked, Artifacts: v.Artifacts}
	}
	if err := checkPackage(tp, name, p); err != nil {
		return nil, err
	}
	return p, nil
}

func decodeIndex(target string, data []byte, v any, schema *int) error {
	if err := json.Unmarshal(data, v); err != nil {
		return &IndexError{Target: target, Msg: "not valid JSON", Err: err}
	}
	if *schema < 1 || *schema > index.Schema {
		return &SchemaError{Target: target, Schema: *schema, Supported: index.Schema}
	}
	return nil
}

// checkPackage rejects an index whose name or artifact paths could
// escape the directory layout a mirror writes.
func checkPackage(target, name string, p *index.Package) error {
	if p.Name != name {
		return &IndexError{Target: target, Field: "name", Msg: fmt.Sprintf("is %q, want %q", p.Name, name)}
	}
	for _, v := range p.Versions {
		if err := checkComponent("version", v.Version); err != nil {
			return &IndexError{Target: target, Field: "versions", Msg: err.Error()}
		}
		for _, a := range v.Artifacts {
			field := fmt.Sprintf("versions[%s].artifacts[%s]", v.Version, a.Platform)
			if err := checkComponent("platform", a.Platform); err != nil {
				return &IndexError{Target: target, Field: field, Msg: err.Error()}
			}
			base := a.Path[strings.LastIndexByte(a.Path, '/')+1:]
			if err := checkComponent("artifact", base); err != nil {
				return &IndexError{Target: target, Field: field + ".path", Msg: err.Error()}
			}
			if want := name + "/" + v.Version + "/" + a.Platform + "/" + base; a.Path != want {
				return &IndexError{Target: target, Field: field + ".path", Msg: fmt.Sprintf("is %q, want %q", a.Path, want)}
			}
			if a.Length < 0 || len(a.SHA256) != 64 {
				return &IndexError{Target: target, Field: field, Msg: "length or sha256 missing"}
			}
		}
	}
	return nil
}

// checkComponent accepts one path component of the l3afd layout.
func checkComponent(what, s string) error {
	if s == "" || s == "." || s == ".." || len(s) > 255 || s == "latest" && what == "version" {
		return fmt.Errorf("%s %q: not a valid path component", what, s)
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' || r == '+'
		if !ok {
			return fmt.Errorf("%s %q: character %q not allowed", what, s, r)
		}
	}
	return nil
}
