package repo

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ebpfrepo/ebpfrepo/client"

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
		"counter.bpf.o": "counter.bpf.o", "counter_loader": "counter_loader", "counter.lskel.h": skel, "signer.pem": cert} {
		data, err := os.ReadFile(filepath.Join(kernelFixtures, src))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), data, map[bool]os.FileMode{true: 0o755, false: 0o644}[dst == "counter_loader"]); err != nil {
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
				assertRefused(t, r, err, tc.code)
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

// TestClientRequireKernel: a client that requires the kernel level takes
// the signed package, re-verifying its loader from the artifact's bytes
// against the host's certificates, and refuses it when the host trusts
// another CA, and refuses a package without a signed loader; without
// certificates the client does not start.
func TestClientRequireKernel(t *testing.T) {
	ca, _ := filepath.Abs(filepath.Join(kernelFixtures, "keys", "ca.pem"))
	r := newRepo(t)
	r.Config.Kernel = Kernel{TrustedCerts: []string{ca}}
	if _, err := r.Add(context.Background(), []string{signedPackage(t, "counter.lskel.h", "parts/signer.pem")}, AddOptions{Now: t0}); err != nil {
		t.Fatal(err)
	}
	addGood(t, r, "tc-stats")
	build(t, r, BuildOptions{})
	out, _ := filepath.Abs(filepath.Join(r.Dir, layout.PublicDir))
	root, _ := os.ReadFile(filepath.Join(out, "metadata", "1.root.json"))
	certs := func(name string) []*x509.Certificate {
		data, _ := os.ReadFile(filepath.Join(kernelFixtures, name))
		b, _ := pem.Decode(data)
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return []*x509.Certificate{c}
	}
	newClient := func(kc []*x509.Certificate) (*client.Client, error) {
		return client.New(client.Options{RepoURL: "file://" + out, TrustedRoot: root, CacheDir: t.TempDir(), Retries: -1,
			Now: func() time.Time { return t0.Add(time.Hour) }, Require: []string{client.LevelKernel}, KernelCerts: kc})
	}
	if _, err := newClient(nil); err == nil || !strings.Contains(err.Error(), "--kernel-cert") {
		t.Errorf("require kernel without certificates: %v", err)
	}
	for _, tc := range []struct {
		name, pkg, platform, cert string
		ok, absent                bool
	}{
		{"signed, host trusts the CA", "signed-counter", "noble", "keys/ca.pem", true, false},
		{"signed, host trusts the signer", "signed-counter", "noble", "parts/signer.pem", true, false},
		{"signed, host trusts another CA", "signed-counter", "noble", "keys/rogue-ca.pem", false, false},
		{"no signed loader", "tc-stats", "jammy", "keys/ca.pem", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := newClient(certs(tc.cert))
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = c.Get(context.Background(), tc.pkg, "", tc.platform)
			var ke *client.KernelError
			switch {
			case tc.ok && err != nil:
				t.Errorf("get --require kernel: %v", err)
			case !tc.ok && (!errors.As(err, &ke) || !errors.Is(err, client.ErrPolicy) || ke.Absent != tc.absent):
				t.Errorf("get --require kernel: %v, want a KernelError (absent %v)", err, tc.absent)
			case !tc.ok && !tc.absent && !strings.Contains(err.Error(), "kernel.chain"):
				t.Errorf("refusal does not name the failing step: %v", err)
			}
		})
	}
}
