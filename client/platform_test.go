package client

import (
	"strings"
	"testing"
)

func TestOSReleaseCodename(t *testing.T) {
	for in, want := range map[string]string{
		"NAME=\"Ubuntu\"\nVERSION_CODENAME=noble\nUBUNTU_CODENAME=noble\n": "noble",
		"ID=linuxmint\nVERSION_CODENAME=\nUBUNTU_CODENAME=jammy\n":         "jammy",
		"ID=debian\nVERSION_CODENAME=\"bookworm\"\n":                       "bookworm",
		"ID=arch\n": "",
	} {
		if got := osReleaseCodename(strings.NewReader(in)); got != want {
			t.Errorf("osReleaseCodename(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzOSReleaseCodename: any os-release content yields a codename or
// nothing, never a panic, and never a value with a path separator.
func FuzzOSReleaseCodename(f *testing.F) {
	f.Add("VERSION_CODENAME=noble\n")
	f.Add("UBUNTU_CODENAME='jammy'\nVERSION_CODENAME=\n")
	f.Fuzz(func(t *testing.T, s string) {
		c := osReleaseCodename(strings.NewReader(s))
		if strings.ContainsAny(c, "\n") {
			t.Fatalf("codename %q spans lines", c)
		}
	})
}
