package pkgpattern

import "testing"

func TestClaimsOverlap(t *testing.T) {
	for _, tc := range []struct {
		a, b    string
		overlap bool
	}{
		{"xdp-*", "xdp-root", true}, {"xdp-*", "x*", true}, {"xdp-*", "tc-*", false},
		{"rl", "rl", true}, {"rl", "rl2", false}, {"rl*", "rl2", true},
	} {
		if got := Overlap(tc.a, tc.b); got != tc.overlap || Overlap(tc.b, tc.a) != tc.overlap {
			t.Errorf("Overlap(%q, %q) = %t, want %t both ways", tc.a, tc.b, got, tc.overlap)
		}
	}
	if !Claims("xdp-*", "xdp-root") || Claims("xdp-root", "xdp-root2") || !Valid("a*") || Valid("*") || Valid("A") {
		t.Error("Claims/Valid")
	}
}
