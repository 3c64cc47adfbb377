package index

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func testPackage() *Package {
	mk := func(ver string, platforms ...string) Version {
		v := Version{Version: ver}
		for _, p := range platforms {
			v.Artifacts = append(v.Artifacts, Artifact{Platform: p, Path: "ratelimiting/" + ver + "/" + p + "/l3af_ratelimiting.tar.gz"})
		}
		return v
	}
	p := &Package{Name: "ratelimiting", Versions: []Version{
		mk("1.0.0", "focal", "jammy"),
		mk("1.1.0", "jammy", "noble"),
		mk("1.2.0", "jammy", "noble"),
		mk("2.0.0-rc.1", "jammy", "noble"),
		mk("0.9.0", "focal"),
		mk("1.3.0", "jammy", "noble"),
	}}
	p.Lookup("1.3.0").Yanked = &Yank{Reason: "bad map size", At: time.Unix(0, 0)}
	return p
}

func TestResolve(t *testing.T) {
	tests := []struct {
		constraint, platform string
		want                 string
		wantErr              any
	}{
		{"latest", "jammy", "1.2.0", nil},
		{"", "noble", "1.2.0", nil},
		{"*", "", "1.2.0", nil},
		{"1.1.0", "jammy", "1.1.0", nil},
		{"=1.1.0", "jammy", "1.1.0", nil},
		{"1.3.0", "jammy", "1.3.0", nil}, // yanked, but named exactly
		{"2.0.0-rc.1", "noble", "2.0.0-rc.1", nil},
		{"^1.0", "jammy", "1.2.0", nil}, // skips yanked 1.3.0
		{"~1.1", "noble", "1.1.0", nil},
		{">=1.0 <2", "jammy", "1.2.0", nil},
		{">=1.0, <2", "jammy", "1.2.0", nil},
		{"1.x", "jammy", "1.2.0", nil},
		{"^1.0", "focal", "1.0.0", nil}, // newest built for focal
		{">=2.0.0-rc.0", "jammy", "2.0.0-rc.1", nil},
		{"^2", "jammy", "", new(*NoMatchError)}, // pre-release not named
		{"3.0.0", "jammy", "", new(*NoMatchError)},
		{"latest", "bookworm", "", new(*PlatformError)},
		{"not a constraint!", "jammy", "", new(*ConstraintError)},
	}
	for _, tt := range tests {
		t.Run(tt.constraint+"/"+tt.platform, func(t *testing.T) {
			v, a, err := testPackage().Resolve(tt.constraint, tt.platform)
			if tt.wantErr != nil {
				if err == nil || !errors.As(err, tt.wantErr) {
					t.Fatalf("Resolve(%q, %q) error = %v, want %T", tt.constraint, tt.platform, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve(%q, %q): %v", tt.constraint, tt.platform, err)
			}
			if v.Version != tt.want {
				t.Errorf("Resolve(%q, %q) = %s, want %s", tt.constraint, tt.platform, v.Version, tt.want)
			}
			if tt.platform != "" && a.Platform != tt.platform {
				t.Errorf("artifact platform = %s, want %s", a.Platform, tt.platform)
			}
		})
	}
}

func TestPlatformErrorListsSupported(t *testing.T) {
	_, _, err := testPackage().Resolve("latest", "bookworm")
	var pe *PlatformError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want *PlatformError", err)
	}
	// latest on focal is 1.0.0, the newest stable version built for it.
	if diff := cmp.Diff([]string{"focal", "jammy", "noble"}, pe.Supported); diff != "" {
		t.Errorf("Supported (-want +got):\n%s", diff)
	}
	if got, want := err.Error(), `package ratelimiting: no stable version is built for platform "bookworm" (latest is 1.2.0; supported: focal, jammy, noble)`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	_, _, err = testPackage().Resolve("1.1.0", "focal")
	if got, want := fmt.Sprint(err), `package ratelimiting@1.1.0: not built for platform "focal" (supported: jammy, noble)`; got != want {
		t.Errorf("exact: Error() = %q, want %q", got, want)
	}
}

// TestResolvePrereleases pins down "pre-releases only when the
// constraint names one": ranges skip them, and a range that names a
// pre-release admits pre-releases of that major.minor.patch only.
func TestResolvePrereleases(t *testing.T) {
	p := &Package{Name: "rl"}
	for _, v := range []string{"1.4.0", "1.5.0-rc.1", "2.0.0-rc.1", "2.0.0-rc.2", "2.1.0-beta.1"} {
		p.Versions = append(p.Versions, Version{Version: v, Artifacts: []Artifact{{Platform: "jammy"}}})
	}
	SortVersions(p.Versions)
	for _, tt := range []struct{ constraint, want string }{
		{"latest", "1.4.0"},
		{">=1.0 <2", "1.4.0"},
		{"^1", "1.4.0"},
		{"^1.5.0-rc.1", "1.5.0-rc.1"},
		{"^2.0.0-rc.1", "2.0.0-rc.2"}, // not 2.1.0-beta.1: names 2.0.0 pre-releases only
		{">=2.0.0-rc.0", "2.0.0-rc.2"},
		{"v2.0.0-rc.1 - 2.0.0-rc.2", "2.0.0-rc.2"},
		{"2.1.0-beta.1", "2.1.0-beta.1"}, // exact
		{"^2", ""},
		{">=1.5.0-rc.1 <2.0.0-rc.2", "2.0.0-rc.1"}, // both tuples named
	} {
		v, _, err := p.Resolve(tt.constraint, "jammy")
		got := ""
		if err == nil {
			got = v.Version
		} else if nm := (*NoMatchError)(nil); !errors.As(err, &nm) {
			t.Errorf("Resolve(%q): %v", tt.constraint, err)
		}
		if got != tt.want {
			t.Errorf("Resolve(%q) = %q, want %q", tt.constraint, got, tt.want)
		}
	}
}

// TestPlatformErrorRange: the platforms listed are those of every
// version the range admits, so asking for any of them succeeds.
func TestPlatformErrorRange(t *testing.T) {
	_, _, err := testPackage().Resolve("^1.0", "bookworm")
	var pe *PlatformError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want *PlatformError", err)
	}
	if diff := cmp.Diff([]string{"focal", "jammy", "noble"}, pe.Supported); diff != "" {
		t.Errorf("Supported (-want +got):\n%s", diff)
	}
	want := `package ratelimiting: no version matching "^1.0" is built for platform "bookworm" (newest match 1.2.0; supported: focal, jammy, noble)`
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	for _, plat := range pe.Supported {
		if _, _, err := testPackage().Resolve("^1.0", plat); err != nil {
			t.Errorf("listed platform %s does not resolve: %v", plat, err)
		}
	}
}

func TestLatest(t *testing.T) {
	p := testPackage()
	if got := p.Latest(); got == nil || got.Version != "1.2.0" {
		t.Fatalf("Latest() = %v, want 1.2.0", got)
	}
	only := &Package{Name: "x", Versions: []Version{{Version: "1.0.0-rc.1"}}}
	if got := only.Latest(); got != nil {
		t.Errorf("Latest() of pre-releases only = %s, want nil", got.Version)
	}
}

func TestSortVersions(t *testing.T) {
	vs := testPackage().Versions
	SortVersions(vs)
	var got []string
	for _, v := range vs {
		got = append(got, v.Version)
	}
	want := []string{"2.0.0-rc.1", "1.3.0", "1.2.0", "1.1.0", "1.0.0", "0.9.0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SortVersions (-want +got):\n%s", diff)
	}
}

func FuzzResolve(f *testing.F) {
	for _, s := range []string{"latest", "^1.0", ">=1.0 <2", "1.2.0", "~1", "||", ">=", "1.x.x.x"} {
		f.Add(s, "jammy")
	}
	f.Fuzz(func(t *testing.T, constraint, platform string) {
		v, a, err := testPackage().Resolve(constraint, platform)
		if err == nil && (v == nil || a == nil) {
			t.Fatalf("Resolve(%q, %q) returned nil without error", constraint, platform)
		}
		if c := strings.TrimPrefix(strings.TrimSpace(constraint), "="); err == nil && v.Yanked != nil && c != v.Version {
			t.Fatalf("Resolve(%q) selected yanked %s", constraint, v.Version)
		}
	})
}

// TestOneLatestRule pins the rules of policy.go on the case that once had
// three answers: a yanked 1.0.0-rc.1 and a 0.9.0-rc.1.
func TestOneLatestRule(t *testing.T) {
	for _, tc := range []struct {
		name             string
		versions         []string
		yanked           []string
		latest, featured string
	}{
		{"stable wins over newer pre-release", []string{"2.0.0-rc.1", "1.1.0", "1.0.0"}, nil, "1.1.0", "1.1.0"},
		{"yanked stable is skipped", []string{"1.1.0", "1.0.0"}, []string{"1.1.0"}, "1.0.0", "1.0.0"},
		{"pre-releases only, newest yanked", []string{"1.0.0-rc.1", "0.9.0-rc.1"}, []string{"1.0.0-rc.1"}, "", "0.9.0-rc.1"},
		{"everything yanked", []string{"1.0.0", "0.9.0"}, []string{"1.0.0", "0.9.0"}, "", "1.0.0"},
		{"order does not matter", []string{"0.9.0", "1.0.0", "0.10.0"}, nil, "1.0.0", "1.0.0"},
		{"no versions", nil, nil, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Package{Name: "x"}
			for _, v := range tc.versions {
				p.Versions = append(p.Versions, Version{Version: v, Prerelease: IsPrereleaseVersion(v),
					Artifacts: []Artifact{{Platform: "jammy", Path: "x/" + v + "/jammy/x.tar.gz"}}})
			}
			for _, v := range tc.yanked {
				p.Lookup(v).Yanked = &Yank{Reason: "test"}
			}
			got := [2]string{}
			if l := p.Latest(); l != nil {
				got[0] = l.Version
			}
			if f := p.Featured(); f != nil {
				got[1] = f.Version
			}
			if diff := cmp.Diff([2]string{tc.latest, tc.featured}, got); diff != "" {
				t.Errorf("[Latest, Featured] (-want +got):\n%s", diff)
			}
			// The summary says the same.
			s := Summarize(p, 0, "")
			wantFeatured := ""
			if tc.latest == "" {
				wantFeatured = tc.featured
			}
			if s.Latest != tc.latest || s.Featured != wantFeatured {
				t.Errorf("Summarize: latest %q featured %q, want %q %q", s.Latest, s.Featured, tc.latest, wantFeatured)
			}
			// "latest" resolves to Latest, or fails when there is none.
			v, _, err := p.Resolve("latest", "")
			switch {
			case tc.latest == "" && err == nil:
				t.Errorf("Resolve(latest) = %s, want an error", v.Version)
			case tc.latest != "" && (err != nil || v.Version != tc.latest):
				t.Errorf("Resolve(latest) = %v, %v; want %s", v, err, tc.latest)
			}
		})
	}
}

func TestNoMatchHints(t *testing.T) {
	p := &Package{Name: "rl"}
	for _, v := range []string{"1.1.0", "1.0.0", "2.0.0-rc.1"} {
		p.Versions = append(p.Versions, Version{Version: v, Prerelease: IsPrereleaseVersion(v), Artifacts: []Artifact{{Platform: "jammy", Path: "rl/" + v + "/jammy/rl.tar.gz"}}})
	}
	p.Lookup("1.1.0").Yanked = &Yank{Reason: "x"}
	p.Lookup("1.0.0").Yanked = &Yank{Reason: "x"}
	for _, tc := range []struct{ constraint, want string }{
		{"^1.0", "yanked: 1.1.0, 1.0.0 (ranges and latest skip yanked versions; ask for one exactly, rl@1.1.0"},
		{"^2.0", "pre-releases: 2.0.0-rc.1 (selected only when named: rl@2.0.0-rc.1)"},
		{"latest", "pre-releases: 2.0.0-rc.1"},
	} {
		_, _, err := p.Resolve(tc.constraint, "jammy")
		var ne *NoMatchError
		if !errors.As(err, &ne) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "no versions published") {
			t.Errorf("Resolve(%q): %v, want a hint %q", tc.constraint, err, tc.want)
		}
	}
	_, _, err := testPackage().Resolve("1.2.0", "Jammy")
	if err == nil || !strings.Contains(err.Error(), `did you mean "jammy"?`) {
		t.Errorf("platform in the wrong case: %v", err)
	}
}
