package keyless_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ebpfrepo/ebpfrepo/internal/sigstoretest"
	"github.com/ebpfrepo/ebpfrepo/keyless"
)

const ghIssuer = "https://token.actions.githubusercontent.com"

var signer = sigstoretest.GitHubWorkflow("acme/xdp-filters", ".github/workflows/release.yml", "refs/tags/v1.2.0", "0123456789abcdef0123456789abcdef01234567")

var grant = keyless.Publisher{Name: "acme-ci", Packages: []string{"xdp-*"}, Identities: []keyless.Identity{
	{SANRegexp: `https://github\.com/acme/xdp-filters/\.github/workflows/release\.yml@refs/tags/v.*`, Issuer: ghIssuer},
}}

type fixture struct {
	in    *sigstoretest.Instance
	trust *keyless.TrustRoot
}

func newFixture(t testing.TB, name string) fixture {
	t.Helper()
	in, err := sigstoretest.New(name, time.Now().Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := in.TrustedRoot()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := keyless.ParseTrustRoot(raw)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{in, tr}
}

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func TestVerify(t *testing.T) {
	f := newFixture(t, "test")
	other := newFixture(t, "other")
	otherCA, err := f.in.WithOtherCA()
	if err != nil {
		t.Fatal(err)
	}
	artifact := []byte("the artifact's bytes")
	now := time.Now()
	tests := []struct {
		name     string
		in       *sigstoretest.Instance
		signer   sigstoretest.Signer
		opts     sigstoretest.Options
		signs    []byte // what the bundle signs (default artifact)
		mangle   func([]byte) []byte
		check    string // the failing check, "" for success
		contains string
	}{
		{name: "message signature", in: f.in, signer: signer},
		{name: "DSSE attestation", in: f.in, signer: signer, opts: sigstoretest.Options{DSSE: true, SubjectName: "xdp-ratelimit-1.0.0.tar.gz"}},
		{name: "wrong identity", in: f.in, signer: sigstoretest.GitHubWorkflow("mallory/xdp-filters", ".github/workflows/release.yml", "refs/tags/v1.2.0", ""),
			check: keyless.CheckIdentity, contains: "found https://github.com/mallory/xdp-filters/.github/workflows/release.yml@refs/tags/v1.2.0"},
		{name: "branch, not tag", in: f.in, signer: sigstoretest.GitHubWorkflow("acme/xdp-filters", ".github/workflows/release.yml", "refs/heads/main", ""),
			check: keyless.CheckIdentity},
		{name: "wrong issuer", in: f.in, signer: func() sigstoretest.Signer { s := signer; s.Issuer = "https://gitlab.com"; return s }(),
			check: keyless.CheckIssuer, contains: "found https://gitlab.com, expected " + ghIssuer},
		{name: "digest of another file", in: f.in, signer: signer, signs: []byte("another file"),
			check: keyless.CheckDigest, contains: "expected sha256:" + sum(artifact)},
		{name: "DSSE subject of another file", in: f.in, signer: signer, signs: []byte("another file"), opts: sigstoretest.Options{DSSE: true},
			check: keyless.CheckDigest},
		{name: "certificate expired at signing time", in: f.in, signer: signer,
			opts:  sigstoretest.Options{SignedAt: now, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(-50 * time.Minute)},
			check: keyless.CheckValidity, contains: "signed at"},
		{name: "missing tlog entry", in: f.in, signer: signer, opts: sigstoretest.Options{NoTlog: true}, check: keyless.CheckTlog, contains: "no log entry"},
		{name: "no SCT", in: f.in, signer: signer, opts: sigstoretest.Options{NoSCT: true}, check: keyless.CheckSCT},
		{name: "untrusted instance", in: other.in, signer: signer, check: keyless.CheckTlog},
		{name: "untrusted root CA", in: otherCA, signer: signer, check: keyless.CheckChain, contains: "other"},
		// A hashedrekord entry's signature is checked as the entry is
		// parsed: a bad message signature fails there.
		{name: "signature over other bytes", in: f.in, signer: signer, opts: sigstoretest.Options{BadSignature: true}, check: keyless.CheckBundle, contains: "invalid signature"},
		{name: "DSSE signature over other bytes", in: f.in, signer: signer, opts: sigstoretest.Options{DSSE: true, BadSignature: true}, check: keyless.CheckSignature},
		{name: "truncated", in: f.in, signer: signer, mangle: func(b []byte) []byte { return b[:len(b)/2] }, check: keyless.CheckBundle},
		{name: "not a bundle", in: f.in, signer: signer, mangle: func([]byte) []byte { return []byte(`{"mediaType":"text/plain"}`) }, check: keyless.CheckBundle},
		{name: "oversized", in: f.in, signer: signer, mangle: func(b []byte) []byte { return append(b, make([]byte, keyless.MaxBundleSize)...) }, check: keyless.CheckBundle},
		{name: "signature swapped", in: f.in, signer: signer, mangle: func(b []byte) []byte {
			other, _ := f.in.Bundle(artifact, signer, sigstoretest.Options{})
			return []byte(strings.Replace(string(b), sigOf(t, b), sigOf(t, other), 1))
		}, check: keyless.CheckTlog},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			signs := tc.signs
			if signs == nil {
				signs = artifact
			}
			b, err := tc.in.Bundle(signs, tc.signer, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if tc.mangle != nil {
				b = tc.mangle(b)
			}
			ev, err := keyless.Verify(b, sum(artifact), f.trust, grant, "xdp-ratelimit@1.0.0")
			if tc.check == "" {
				if err != nil {
					t.Fatal(err)
				}
				if ev.Identity != tc.signer.Identity || ev.Issuer != ghIssuer || ev.Commit != tc.signer.Commit || ev.Repository != "https://github.com/acme/xdp-filters" ||
					ev.Publisher != "acme-ci" || ev.Log != f.in.LogURL() || ev.IntegratedTime.IsZero() {
					t.Errorf("evidence %+v", ev)
				}
				if want := map[bool]string{false: "message-signature", true: "dsse"}[tc.opts.DSSE]; ev.Kind != want {
					t.Errorf("kind %q, want %q", ev.Kind, want)
				}
				return
			}
			var ve *keyless.VerifyError
			if !errors.As(err, &ve) || !errors.Is(err, keyless.ErrVerify) {
				t.Fatalf("error %v (%T), want a *VerifyError", err, err)
			}
			if ve.Check != tc.check {
				t.Errorf("check %q, want %q: %v", ve.Check, tc.check, err)
			}
			if !strings.Contains(err.Error(), tc.contains) || !strings.Contains(err.Error(), "xdp-ratelimit@1.0.0") {
				t.Errorf("error %q: want it to name the artifact and contain %q", err, tc.contains)
			}
			if ev != nil {
				t.Errorf("evidence %+v with an error", ev)
			}
		})
	}
}

// sigOf is the bundle's message signature (base64), to swap it.
func sigOf(t *testing.T, b []byte) string {
	s := string(b)
	i := strings.Index(s, `"signature": "`)
	if i < 0 {
		t.Fatalf("no signature in %s", b)
	}
	s = s[i+len(`"signature": "`):]
	return s[:strings.Index(s, `"`)]
}
