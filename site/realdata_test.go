package site

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/internal/testpkgs"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

// realData builds catalogue Data from the example packages in
// testdata/packages and the hostile package, described by pkgfmt.LintPath
// (with the verifier when running as root) and packed with testpkgs.Pack,
// the way the repository build does.
func realData(t *testing.T) *Data {
	t.Helper()
	dirs := append(testpkgs.Good(), testpkgs.Hostile())
	if len(dirs) < 3 {
		t.Fatalf("only %d example packages under %s", len(dirs), testpkgs.Root())
	}
	byName := make(map[string]*index.Package)
	for i, dir := range dirs {
		d, err := pkgfmt.LintPath(context.Background(), dir, pkgfmt.LintOptions{Verify: os.Geteuid() == 0})
		if err != nil {
			t.Fatalf("lint %s: %v", dir, err)
		}
		// A verifier rejection is pkgfmt's business (its tests load the
		// same objects); here it is one more fact for the page to show.
		for _, p := range d.Errors() {
			if p.Code != pkgfmt.CodeVerifierRejected {
				t.Fatalf("lint %s: %v", dir, p)
			}
		}
		m := d.Manifest
		art := testpkgs.Pack(t, dir)
		data, err := os.ReadFile(art)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		sv, err := semver.StrictNewVersion(m.Version)
		if err != nil {
			t.Fatalf("%s: version %q: %v", dir, m.Version, err)
		}
		v := index.Version{
			Version:     m.Version,
			Prerelease:  sv.Prerelease() != "",
			Added:       fixtureTime.Add(-time.Duration(len(dirs)-i) * 36 * time.Hour),
			Description: d,
		}
		for _, p := range slices.Sorted(slices.Values(m.Platforms)) {
			v.Artifacts = append(v.Artifacts, index.Artifact{Platform: p, Path: m.Name + "/" + m.Version + "/" + p + "/" + m.Artifact,
				Length: int64(len(data)), SHA256: hex.EncodeToString(sum[:])})
		}
		p := byName[m.Name]
		if p == nil {
			p = &index.Package{Schema: index.Schema, Name: m.Name}
			byName[m.Name] = p
		}
		p.Versions = append(p.Versions, v)
	}
	d := fixtureData()
	d.Packages = nil
	for _, p := range byName {
		slices.SortFunc(p.Versions, func(a, b index.Version) int {
			return semver.MustParse(b.Version).Compare(semver.MustParse(a.Version))
		})
		d.Packages = append(d.Packages, p)
	}
	slices.SortFunc(d.Packages, func(a, b *index.Package) int { return strings.Compare(a.Name, b.Name) })
	return d
}

// expectedHits is what the catalogue's search must show for a query and
// filters: every package each term occurs in (name, description,
// keywords, program types, helpers or kfuncs, case-insensitively) that
// passes the filters, sorted by name.
func expectedHits(si *searchIndex, query, typ, platform string) []string {
	hits := []string{}
	for _, p := range si.Packages {
		if typ != "" && !slices.Contains(p.Types, typ) || platform != "" && !slices.Contains(p.Platforms, platform) {
			continue
		}
		ok := true
		for _, term := range strings.Fields(strings.ToLower(query)) {
			fields := append([]string{p.Name, p.Description}, p.Keywords...)
			fields = append(fields, p.Types...)
			fields = append(fields, p.Helpers...)
			fields = append(fields, p.Kfuncs...)
			found := false
			for _, f := range fields {
				if strings.Contains(strings.ToLower(f), term) {
					found = true
					break
				}
			}
			ok = ok && found
		}
		if ok {
			hits = append(hits, p.Name)
		}
	}
	return hits
}

// helperOnlyTerm finds a helper name that occurs in some package's
// helpers but in nothing the home page shows: searching for it works only
// through search.json.
func helperOnlyTerm(si *searchIndex) string {
	var visible strings.Builder
	for _, p := range si.Packages {
		visible.WriteString(strings.ToLower(strings.Join(append(append([]string{p.Name, p.Description}, p.Keywords...), p.Types...), " ")))
	}
	for _, p := range si.Packages {
		for _, h := range p.Helpers {
			if !strings.Contains(visible.String(), strings.ToLower(h)) {
				return h
			}
		}
	}
	return ""
}
