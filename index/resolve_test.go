package index

import (
	"errors"
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
	if diff := cmp.Diff([]string{"jammy", "noble"}, pe.Supported); diff != "" {
		t.Errorf("Supported (-want +got):\n%s", diff)
	}
	if got, want := err.Error(), `package ratelimiting@1.2.0: not built for platform "bookworm" (supported: jammy, noble)`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
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
