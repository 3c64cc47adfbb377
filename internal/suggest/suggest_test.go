package suggest

import "testing"

func TestNearest(t *testing.T) {
	names := []string{"ratelimiting", "connection-limit", "xdp-root", "tc-stats"}
	for _, tc := range []struct{ in, want string }{
		{"ratelimting", "ratelimiting"},
		{"RateLimiting", "ratelimiting"},
		{"xdp-rot", "xdp-root"},
		{"something-else-entirely", ""},
		{"", ""},
	} {
		if got := Nearest(tc.in, names); got != tc.want {
			t.Errorf("Nearest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := Nearest("Jammy", []string{"focal", "jammy", "noble"}); got != "jammy" {
		t.Errorf("platform in the wrong case: %q", got)
	}
}

func FuzzNearest(f *testing.F) {
	f.Add("ratelimting", "ratelimiting")
	f.Fuzz(func(t *testing.T, s, c string) {
		got := Nearest(s, []string{c})
		if got != "" && got != c {
			t.Fatalf("Nearest returned %q, not a candidate", got)
		}
		if EditDistance(s, s) != 0 {
			t.Fatal("distance to itself")
		}
	})
}
