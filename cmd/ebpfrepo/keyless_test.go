package main

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ebpfrepo/ebpfrepo/internal/sigstoretest"
	"github.com/ebpfrepo/ebpfrepo/internal/testpkgs"
)

// TestKeylessCLI walks the keyless author guide through run():
// sigstore update-trust-root → publisher add --identity-regexp → add
// --bundle (refused without, and with another identity's) → build → get
// --require publisher and info showing who signed.
func TestKeylessCLI(t *testing.T) {
	dir := t.TempDir()
	r := filepath.Join(dir, "repo")
	step := stepper(t)
	in, err := sigstoretest.New("cli", time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	root, _ := in.TrustedRoot()
	trust := filepath.Join(dir, "trusted_root.json")
	os.WriteFile(trust, root, 0o644)
	const issuer = "https://token.actions.githubusercontent.com"
	re := `https://github\.com/acme/tc-stats/\.github/workflows/release\.yml@refs/tags/v.*`

	step(0, "init", r)
	if out := step(2, "publisher", "add", "--repo", r, "acme-ci", "--identity-regexp", re, "--package", "tc-stats"); !strings.Contains(out, "--issuer") {
		t.Errorf("keyless grant without --issuer: %q", out)
	}
	if out := step(1, "publisher", "add", "--repo", r, "acme-ci", "--identity-regexp", re, "--issuer", issuer, "--package", "tc-stats"); !strings.Contains(out, "update-trust-root") {
		t.Errorf("keyless grant before a trusted root: %q", out)
	}
	step(0, "sigstore", "update-trust-root", "--repo", r, trust)
	step(0, "publisher", "add", "--repo", r, "acme-ci", "--identity-regexp", re, "--issuer", issuer, "--package", "tc-stats")
	if out := step(0, "publisher", "list", "--repo", r); !strings.Contains(out, "acme-ci\ttc-stats\tkeyless: /"+re+"/ (issuer "+issuer+")") {
		t.Errorf("publisher list: %q", out)
	}
	art := strings.TrimSpace(step(0, "pack", testpkgs.Dir("tc-stats"), "-o", filepath.Join(dir, "dist")))
	data, _ := os.ReadFile(art)
	sign := func(s sigstoretest.Signer) string {
		b, err := in.Bundle(data, s, sigstoretest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(t.TempDir(), "b.sigstore.json")
		os.WriteFile(f, b, 0o644)
		return f
	}
	if out := step(1, "add", "--repo", r, art); !strings.Contains(out, "repo.keyless-unsigned") {
		t.Errorf("add without a bundle: %q", out)
	}
	mallory := sign(sigstoretest.GitHubWorkflow("mallory/tc-stats", ".github/workflows/release.yml", "refs/tags/v1.0.0", ""))
	if out := step(1, "add", "--repo", r, "--bundle", mallory, art); !strings.Contains(out, "identity check failed: found https://github.com/mallory/") {
		t.Errorf("add with another identity's bundle: %q", out)
	}
	ci := sigstoretest.GitHubWorkflow("acme/tc-stats", ".github/workflows/release.yml", "refs/tags/v1.0.0", "89abcdef0123456789abcdef0123456789abcdef")
	if out := step(0, "add", "--repo", r, "--bundle", sign(ci), art); !strings.Contains(out, "keyless signature verified offline: "+ci.Identity) {
		t.Errorf("add: %q", out)
	}
	step(0, "build", "--repo", r)
	pub := filepath.Join(r, "public")
	srv := httptest.NewServer(serveHandler(pub))
	defer srv.Close()
	consumer := func(want int, args ...string) string {
		return step(want, append(args, "--repo", srv.URL, "--root", filepath.Join(pub, "metadata", "1.root.json"), "--cache", t.TempDir())...)
	}
	if out := consumer(0, "get", "--require", "publisher", "--platform", "jammy", "-o", t.TempDir(), "tc-stats"); !strings.Contains(out, "signed by keyless publisher acme-ci ("+ci.Identity) {
		t.Errorf("get --require publisher: %q", out)
	}
	out := consumer(0, "info", "tc-stats")
	for _, want := range []string{"publisher acme-ci (keyless)", "commit:      " + ci.Commit, "log entry:", in.LogURL()} {
		if !strings.Contains(out, want) {
			t.Errorf("info does not show %q:\n%s", want, out)
		}
	}
}
