package client

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"runtime"
	"strings"
)

// HostPlatform is l3afd's platform path segment for this host: the
// output of `lsb_release -cs` on Linux (VERSION_CODENAME of
// /etc/os-release), "Windows" on Windows; "" when it cannot tell.
// This is what l3afd puts in its download URLs, so Resolve on this host
// should ask for it.
func HostPlatform() string {
	if runtime.GOOS == "windows" {
		return "Windows"
	}
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		if b, err := os.ReadFile(p); err == nil {
			if c := osReleaseCodename(bytes.NewReader(b)); c != "" {
				return c
			}
		}
	}
	return ""
}

// osReleaseCodename returns VERSION_CODENAME (else UBUNTU_CODENAME) of an
// os-release file.
func osReleaseCodename(r io.Reader) string {
	vals := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if ok {
			vals[k] = strings.Trim(v, `"'`)
		}
	}
	if c := vals["VERSION_CODENAME"]; c != "" {
		return c
	}
	return vals["UBUNTU_CODENAME"]
}
