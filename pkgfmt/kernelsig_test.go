package pkgfmt

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ebpfrepo/ebpfrepo/kernelsig"
)

const kernelFixtures = "../testdata/kernelsig"

// signedPackage is testdata/kernelsig/package with its files: the
// object, the skeleton and the certificate, each replaceable; edit
// rewrites the manifest.
func signedPackage(t *testing.T, files map[string]string, edit func(string) string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "signed-counter")
	os.MkdirAll(dir, 0o755)
	all := map[string]string{"ebpf-package.toml": "package/ebpf-package.toml", "README.md": "package/README.md",
		"counter.bpf.o": "counter.bpf.o", "counter_loader": "counter_loader", "counter.lskel.h": "counter.lskel.h", "signer.pem": "parts/signer.pem"}
	for k, v := range files {
		all[k] = v
	}
	for dst, src := range all {
		if src == "" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(kernelFixtures, src))
		if err != nil {
			t.Fatal(err)
		}
		if dst == ManifestFile && edit != nil {
			data = []byte(edit(string(data)))
		}
		if err := os.WriteFile(filepath.Join(dir, dst), data, map[bool]os.FileMode{true: 0o755, false: 0o644}[dst == "counter_loader"]); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func kernelCA(t *testing.T) []*x509.Certificate {
	data, _ := os.ReadFile(filepath.Join(kernelFixtures, "keys", "ca.pem"))
	b, _ := pem.Decode(data)
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return []*x509.Certificate{c}
}

// TestKernelSignature: a package carrying a signed light skeleton is
// verified offline at lint; every bad variant is refused with the code
// of the step it fails, and what was verified is reported honestly.
func TestKernelSignature(t *testing.T) {
	ctx := context.Background()
	trust := LintOptions{Kernel: kernelCA(t), KernelRequireTrust: true, KernelNow: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	manifest := func(old, new string) func(string) string {
		return func(s string) string { return strings.Replace(s, old, new, 1) }
	}
	parts := func(s string) string {
		return strings.Replace(s, `skeleton    = "counter.lskel.h"`, `loader = "loader.insns"`+"\n"+`data = "loader.data"`+"\n"+`signature = "loader.sig"`, 1)
	}
	partFiles := map[string]string{"counter.lskel.h": "", "loader.insns": "parts/loader.insns", "loader.data": "parts/loader.data", "loader.sig": "parts/loader.sig"}
	with := func(m map[string]string, k, v string) map[string]string {
		c := map[string]string{}
		for a, b := range m {
			c[a] = b
		}
		c[k] = v
		return c
	}
	for _, tc := range []struct {
		name   string
		files  map[string]string
		edit   func(string) string
		opts   LintOptions
		code   string // the error, or "" for a verified package
		status string
	}{
		{"skeleton", nil, nil, trust, "", KernelVerifiedOffline},
		{"parts", partFiles, parts, trust, "", KernelVerifiedOffline},
		{"load-time parts", with(partFiles, "loader.sig", "parts/loadtime.sig"), func(s string) string { return manifest(`"hash-chain"`, `"load-time"`)(parts(s)) }, trust, "", KernelVerifiedOffline},
		{"no trusted certs: untrusted, a warning", nil, nil, LintOptions{}, "", KernelUntrusted},
		{"untrusted CA", map[string]string{"counter.lskel.h": "untrusted.lskel.h", "signer.pem": "parts/rogue.pem"}, nil, trust, kernelsig.CodeChain, KernelInvalid},
		{"wrong certificate", map[string]string{"signer.pem": "parts/other.pem"}, nil, trust, kernelsig.CodeSigner, KernelInvalid},
		{"signed attributes", with(partFiles, "loader.sig", "parts/signed-attrs.sig"), parts, trust, kernelsig.CodeProfile, KernelInvalid},
		{"sha1", with(partFiles, "loader.sig", "parts/sha1.sig"), parts, trust, kernelsig.CodeDigest, KernelInvalid},
		{"tampered data blob", with(partFiles, "loader.data", "parts/loader.insns"), parts, trust, kernelsig.CodeHashChain, KernelInvalid},
		{"tampered insns", with(partFiles, "loader.insns", "parts/loader.data"), parts, trust, kernelsig.CodeSignature, KernelInvalid},
		{"scheme mismatch", with(partFiles, "loader.sig", "parts/loadtime.sig"), parts, trust, kernelsig.CodeScheme, KernelInvalid},
		{"parts differ from skeleton", map[string]string{"loader.data": "parts/loader.insns"}, manifest(`skeleton    =`, `data = "loader.data"`+"\nskeleton ="), trust, kernelsig.CodeSkeleton, ""},
		{"unsigned skeleton", map[string]string{"counter.lskel.h": "unsigned.lskel.h"}, nil, trust, CodeKernelSigUnsigned, ""},
		{"unknown scheme", nil, manifest(`"hash-chain"`, `"6.19"`), trust, kernelsig.CodeScheme, ""},
		{"missing certificate", map[string]string{"signer.pem": ""}, nil, trust, CodeKernelSigFile, ""},
		{"pinned object", map[string]string{"counter.bpf.o": "pinned.bpf.o"}, manifest(`name     = "count_packets"`, `name     = "pass_pinned"`), trust, CodeKernelSigPinned, KernelVerifiedOffline},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := LintPath(ctx, signedPackage(t, tc.files, tc.edit), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var codes []string
			for _, p := range d.Problems.Errors() {
				codes = append(codes, p.Code)
			}
			switch {
			case tc.code == "" && len(codes) > 0:
				t.Fatalf("errors %v", d.Problems.Errors())
			case tc.code != "" && (len(codes) != 1 || codes[0] != tc.code):
				t.Fatalf("errors %v, want exactly %s", d.Problems.Errors(), tc.code)
			}
			got := ""
			if d.KernelSignature != nil {
				got = d.KernelSignature.Status
			}
			if got != tc.status {
				t.Errorf("status %q, want %q", got, tc.status)
			}
			if got == KernelVerifiedOffline && (!strings.Contains(d.KernelSignature.Summary, "verified offline") || strings.Contains(d.KernelSignature.Summary, "by the kernel")) {
				t.Errorf("summary %q", d.KernelSignature.Summary)
			}
		})
	}
}

// TestKernelSignatureLoad: lint --verify asks the running kernel and
// records its answer beside the offline verification, never in place of
// it.
func TestKernelSignatureLoad(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to load a BPF_PROG_TYPE_SYSCALL loader")
	}
	d, err := LintPath(context.Background(), signedPackage(t, nil, nil), LintOptions{Verify: true, Kernel: kernelCA(t), KernelRequireTrust: true})
	if err != nil {
		t.Fatal(err)
	}
	ks := d.KernelSignature
	if ks == nil || ks.Status != KernelVerifiedOffline || ks.Load == nil || ks.Load.Status == kernelsig.LoadNotRun || ks.Load.Kernel == "" {
		t.Fatalf("kernel signature %+v", ks)
	}
	t.Logf("the kernel's answer: %+v", *ks.Load)
}
