package repo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/kernelsig"
	"github.com/ebpfrepo/ebpfrepo/layout"
)

const kernelFixtures = "../testdata/kernelsig"

// signedPackage is a copy of testdata/kernelsig/package carrying skel as
// its skeleton and cert as its certificate.
func signedPackage(t *testing.T, skel, cert string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "signed-counter")
	os.MkdirAll(dir, 0o755)
	for dst, src := range map[string]string{"ebpf-package.toml": "package/ebpf-package.toml", "README.md": "package/README.md",
		"counter.bpf.o": "counter.bpf.o", "counter.lskel.h": skel, "signer.pem": cert} {
		data, err := os.ReadFile(filepath.Join(kernelFixtures, src))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestKernelSignedPackages: add verifies a package's signed loader
// offline against [kernel] trusted_certs and refuses, adding nothing, one
// signed by an untrusted CA, one whose signer is not its certificate, and
// any kernel signature when no certificate is trusted; the index records
// what was verified, as verified offline.
func TestKernelSignedPackages(t *testing.T) {
	ca, _ := filepath.Abs(filepath.Join(kernelFixtures, "keys", "ca.pem"))
	for _, tc := range []struct {
		name, skel, cert string
		trusted          []string
		code             string
	}{
		{"trusted", "counter.lskel.h", "parts/signer.pem", []string{ca}, ""},
		{"untrusted CA", "untrusted.lskel.h", "parts/rogue.pem", []string{ca}, kernelsig.CodeChain},
		{"wrong certificate", "counter.lskel.h", "parts/other.pem", []string{ca}, kernelsig.CodeSigner},
		{"nothing trusted", "counter.lskel.h", "parts/signer.pem", nil, kernelsig.CodeChain},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRepo(t)
			r.Config.Kernel = Kernel{TrustedCerts: tc.trusted}
			_, err := r.Add(context.Background(), []string{signedPackage(t, tc.skel, tc.cert)}, AddOptions{Now: t0})
			if tc.code != "" {
				var ie *InvalidError
				if !errors.As(err, &ie) || !hasCode(ie.Problems, tc.code) {
					t.Fatalf("add: %v, want %s", err, tc.code)
				}
				if ents, _ := os.ReadDir(filepath.Join(r.Dir, layout.PackagesDir)); len(ents) != 0 {
					t.Errorf("a refused package left %d entries in packages/", len(ents))
				}
				return
			}
			if err != nil {
				t.Fatalf("add: %v", err)
			}
			build(t, r, BuildOptions{})
			var p index.Package
			readJSON(t, findTarget(t, filepath.Join(r.Dir, layout.PublicDir), "index/signed-counter.json"), &p)
			k := p.Versions[0].Signatures.Kernel
			if k.Status != "verified-offline" || k.Scheme != "hash-chain" || !strings.Contains(k.Signer, "TEST-ONLY bpf signer") ||
				!strings.Contains(k.ChainsTo, "TEST-ONLY kernel signing CA") || !strings.HasPrefix(k.Summary, "kernel signature verified offline (6.18 hash-chain scheme") {
				t.Errorf("kernel level %+v", k)
			}
			page, _ := os.ReadFile(filepath.Join(r.Dir, layout.PublicDir, "packages", "signed-counter", "index.html"))
			if !strings.Contains(string(page), "✓ kernel-signed loader") || !strings.Contains(string(page), "kernel signature verified offline") || strings.Contains(string(page), "verified by the kernel") {
				t.Errorf("the package page does not say what was verified, honestly")
			}
		})
	}
}
