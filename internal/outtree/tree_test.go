package outtree

import "testing"

func TestValidManifest(t *testing.T) {
	for _, tc := range []struct {
		rel string
		ok  bool
	}{
		{"targets/a/1.0.0/jammy/ab.x.tar.gz", true},
		{"metadata/timestamp.json", true},
		{"l3afd/a/latest/jammy/x.tar.gz", true},
		{"../keys/root.pem", false},
		{"targets/../../keys/root.pem", false},
		{"targets/a/../b", false},
		{"index.html", false},
		{"/etc/passwd", false},
		{"targets//x", false},
		{`targets\..\x`, false},
	} {
		if got := ValidManifest(map[string]string{tc.rel: "x"}); got != tc.ok {
			t.Errorf("%q: %v, want %v", tc.rel, got, tc.ok)
		}
	}
}
