package keyless_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebpfrepo/ebpfrepo/keyless"
)

// sigstoreGoData is sigstore-go's own test data in the module cache: a
// bundle made by a real Sigstore deployment (Fulcio with an SCT, Rekor),
// and the trusted roots of that deployment and of the public-good
// instance. Read in place, not copied into this repository.
func sigstoreGoData(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/sigstore/sigstore-go").Output()
	dir := filepath.Join(strings.TrimSpace(string(out)), "pkg", "testing", "data")
	if _, serr := os.Stat(dir); err != nil || serr != nil {
		t.Skipf("sigstore-go's module source is not in the module cache (go mod download): %v %v", err, serr)
	}
	return dir
}

// TestRealBundle: a bundle real Sigstore services made (v0.3 message
// signature, OtherName SAN, SCT, Rekor entry with inclusion proof)
// verifies through every stage against its deployment's trusted root,
// and fails the right check for the wrong identity or root.
func TestRealBundle(t *testing.T) {
	dir := sigstoreGoData(t)
	bundle, err := os.ReadFile(filepath.Join(dir, "bundles", "othername.sigstore.json"))
	if err != nil {
		t.Fatal(err)
	}
	trust := func(name string) *keyless.TrustRoot {
		data, err := os.ReadFile(filepath.Join(dir, "trusted-roots", name))
		if err != nil {
			t.Fatal(err)
		}
		tr, err := keyless.ParseTrustRoot(data)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	const digest = "bc103b4a84971ef6459b294a2b98568a2bfb72cded09d4acd1e16366a401f95b" // the bundle's message digest
	grant := func(san, issuer string) keyless.Publisher {
		return keyless.Publisher{Name: "scaffolding", Packages: []string{"x"}, Identities: []keyless.Identity{{SAN: san, Issuer: issuer}}}
	}
	ev, err := keyless.Verify(bundle, digest, trust("scaffolding.json"), grant("foo!oidc.local", "http://oidc.local:8080"), "x@1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if ev.Identity != "foo!oidc.local" || ev.LogIndex != 3 || ev.IntegratedTime.Year() != 2024 {
		t.Errorf("evidence %+v", ev)
	}
	for _, tc := range []struct {
		name   string
		trust  string
		grant  keyless.Publisher
		digest string
		check  string
	}{
		{"e-mail, not the OtherName", "scaffolding.json", grant("foo@oidc.local", "http://oidc.local:8080"), digest, keyless.CheckIdentity},
		{"another issuer", "scaffolding.json", grant("foo!oidc.local", "https://accounts.google.com"), digest, keyless.CheckIssuer},
		{"another artifact", "scaffolding.json", grant("foo!oidc.local", "http://oidc.local:8080"), strings.Repeat("0", 64), keyless.CheckDigest},
		{"the public-good root", "public-good.json", grant("foo!oidc.local", "http://oidc.local:8080"), digest, keyless.CheckTlog},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := keyless.Verify(bundle, tc.digest, trust(tc.trust), tc.grant, "x@1.0.0")
			var ve *keyless.VerifyError
			if !errors.As(err, &ve) || ve.Check != tc.check {
				t.Fatalf("%v, want the %s check to fail", err, tc.check)
			}
		})
	}
}
