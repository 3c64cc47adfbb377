package kernelsig

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const fixtures = "../testdata/kernelsig"

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func cert(t testing.TB, name string) *x509.Certificate {
	t.Helper()
	blk, _ := pem.Decode(read(t, name))
	if blk == nil {
		t.Fatalf("%s: no PEM", name)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func goodLoader(t testing.TB) Loader {
	sk, err := ParseSkeleton(read(t, "counter.lskel.h"))
	if err != nil {
		t.Fatal(err)
	}
	return Loader{Insns: sk.Insns, Data: sk.Data, Signature: sk.Signature, ExclHash: sk.ExclHash, Certificate: cert(t, "parts/signer.pem")}
}

func trusted(t testing.TB) Options {
	return Options{Scheme: SchemeHashChain, Trusted: []*x509.Certificate{cert(t, "keys/ca.pem")}, Now: time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)}
}

// The skeleton's arrays are the parts the fixture script extracted with
// awk and printf: two independent readings of bpftool's output.
func TestParseSkeletonMatchesParts(t *testing.T) {
	sk, err := ParseSkeleton(read(t, "counter.lskel.h"))
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]byte{"parts/loader.insns": sk.Insns, "parts/loader.data": sk.Data, "parts/loader.sig": sk.Signature} {
		if diff := cmp.Diff(read(t, name), got); diff != "" {
			t.Errorf("%s differs (-file +skeleton):\n%.300s", name, diff)
		}
	}
	if !sk.Signed() || len(sk.ExclHash) != 32 {
		t.Errorf("signed %v, excl hash %d bytes", sk.Signed(), len(sk.ExclHash))
	}
	un, err := ParseSkeleton(read(t, "unsigned.lskel.h"))
	if err != nil {
		t.Fatal(err)
	}
	if un.Signed() {
		t.Error("unsigned.lskel.h parsed as signed")
	}
}

func TestVerifyGood(t *testing.T) {
	for _, tc := range []struct {
		name   string
		loader func(Loader) Loader
		opts   func(Options) Options
	}{
		{"hash-chain, bpftool", func(l Loader) Loader { return l }, func(o Options) Options { return o }},
		{"hash-chain, pinned signer certificate", func(l Loader) Loader { return l }, func(o Options) Options {
			o.Trusted = []*x509.Certificate{cert(t, "parts/signer.pem")}
			return o
		}},
		{"load-time, openssl cms", func(l Loader) Loader {
			l.Signature, l.ExclHash = read(t, "parts/loadtime.sig"), nil
			return l
		}, func(o Options) Options { o.Scheme = SchemeLoadTime; return o }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Verify(tc.loader(goodLoader(t)), tc.opts(trusted(t)))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(r.Summary(), "kernel signature verified offline (") || !strings.Contains(r.Signer, "TEST-ONLY bpf signer") {
				t.Errorf("summary %q, signer %q", r.Summary(), r.Signer)
			}
		})
	}
}

// Every bad fixture fails exactly its own step.
func TestVerifyBad(t *testing.T) {
	flip := func(b []byte, i int) []byte {
		c := append([]byte(nil), b...)
		c[i] ^= 0x01
		return c
	}
	for _, tc := range []struct {
		name   string
		mutate func(*Loader, *Options)
		code   string
		says   string
	}{
		{"tampered insns", func(l *Loader, o *Options) { l.Insns = flip(l.Insns, 4); l.ExclHash = nil }, CodeSignature, "does not verify over the loader instructions"},
		{"tampered insns, skeleton hash kept", func(l *Loader, o *Options) { l.Insns = flip(l.Insns, 4) }, CodeExclHash, "excl_prog_hash"},
		{"tampered data blob", func(l *Loader, o *Options) { l.Data = flip(l.Data, len(l.Data)-9) }, CodeHashChain, "data blob was changed"},
		{"wrong certificate", func(l *Loader, o *Options) { l.Certificate = cert(t, "parts/other.pem") }, CodeSigner, "SubjectKeyIdentifier"},
		{"signed attributes", func(l *Loader, o *Options) { l.Signature = read(t, "parts/signed-attrs.sig") }, CodeProfile, "signed attributes"},
		{"issuer and serial", func(l *Loader, o *Options) { l.Signature = read(t, "parts/issuer-serial.sig") }, CodeProfile, "issuer and serial"},
		{"certificates embedded", func(l *Loader, o *Options) { l.Signature = read(t, "parts/with-certs.sig") }, CodeProfile, "certificates are embedded"},
		{"content attached", func(l *Loader, o *Options) { l.Signature = read(t, "parts/attached.sig") }, CodeProfile, "carries its content"},
		{"sha1", func(l *Loader, o *Options) { l.Signature = read(t, "parts/sha1.sig") }, CodeDigest, "sha1"},
		{"truncated DER", func(l *Loader, o *Options) { l.Signature = l.Signature[:len(l.Signature)-7] }, CodeParse, "malformed DER"},
		{"untrusted CA", func(l *Loader, o *Options) {
			sk, _ := ParseSkeleton(read(t, "untrusted.lskel.h"))
			*l = Loader{Insns: sk.Insns, Data: sk.Data, Signature: sk.Signature, ExclHash: sk.ExclHash, Certificate: cert(t, "parts/rogue.pem")}
		}, CodeChain, "chains to no trusted"},
		{"nothing trusted", func(l *Loader, o *Options) { o.Trusted = nil }, CodeChain, "no trusted kernel-signing certificates"},
		{"load-time signature declared hash-chain", func(l *Loader, o *Options) { l.Signature = read(t, "parts/loadtime.sig") }, CodeScheme, "made for the load-time scheme"},
		{"hash-chain signature declared load-time", func(l *Loader, o *Options) { o.Scheme = SchemeLoadTime }, CodeScheme, "made for the 6.18 hash-chain scheme"},
		{"unknown scheme", func(l *Loader, o *Options) { o.Scheme = "6.19" }, CodeScheme, "unknown scheme"},
		{"instructions not 8-byte units", func(l *Loader, o *Options) { l.Insns = l.Insns[:len(l.Insns)-3] }, CodeParse, "multiple of 8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, o := goodLoader(t), trusted(t)
			tc.mutate(&l, &o)
			_, err := Verify(l, o)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if e.Code != tc.code || !strings.Contains(e.Error(), tc.says) {
				t.Errorf("got %v\nwant code %s saying %q", err, tc.code, tc.says)
			}
		})
	}
}

// Changing the blob leaves the CMS signature valid: the signature alone
// does not catch it (the point of the hash-chain check).
func TestSignatureAloneMissesTamperedData(t *testing.T) {
	l := goodLoader(t)
	sig, err := ParseSignature(l.Signature)
	if err != nil {
		t.Fatal(err)
	}
	l.Data[len(l.Data)-9] ^= 1
	if err := verifyValue(sig, l.Certificate, l.Insns); err != nil {
		t.Fatalf("signature over insns: %v", err)
	}
	if err := checkHashChain(l.Insns, sum(l.Data)); err == nil {
		t.Fatal("hash chain accepted tampered data")
	}
}

func TestToolWarning(t *testing.T) {
	for tool, warn := range map[string]bool{"bpftool v7.7.0": true, "bpftool v7.8.0": false, "libbpf 1.7.1": true, "libbpf v1.8.0": false, "bpftool v8.0": false, "clang 18": false} {
		if got := ToolWarning(tool) != ""; got != warn {
			t.Errorf("%s: warning %v, want %v", tool, got, warn)
		}
	}
}
