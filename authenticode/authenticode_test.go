package authenticode

import (
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const fixtures = "../testdata/windows"

func cert(t testing.TB, name string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtures, "keys", name+".pem"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testTrust pins the test root, and the test mimic of Microsoft Root
// Certificate Authority 2011 in place of the real one, so the production
// classification is exercised end to end.
func testTrust(t testing.TB) Trust {
	mimic := cert(t, "prod-mimic-root")
	return Trust{
		ProductionThumbprints: []string{thumb1(mimic)},
		ProductionRoots:       []*x509.Certificate{mimic},
		TestRoots:             []*x509.Certificate{cert(t, "test-root")},
		TimestampRoots:        []*x509.Certificate{cert(t, "test-root")},
	}
}

// TestFixtures classifies every fixture (testdata/windows, made by
// scripts/make-windows-fixtures.sh with openssl and osslsigncode) and
// compares the verdict with osslsigncode verify's, where the two rules
// agree; where they differ by design, the test says why.
func TestFixtures(t *testing.T) {
	for _, tc := range []struct {
		file  string
		class Class  // want this class, or
		code  string // this error
		// ossl is the root osslsigncode verify is given ("" none) and
		// osslOK its verdict on the file.
		ossl   string
		osslOK bool
		why    string // why the verdicts differ, when they do
	}{
		{file: "unsigned.sys", class: ClassUnsigned},
		{file: "test-signed.sys", class: ClassTestSigned, ossl: "test-root", osslOK: true},
		{file: "production-mimic.sys", class: ClassProduction, ossl: "prod-mimic-root", osslOK: true},
		{file: "nested-production.sys", class: ClassProduction, ossl: "prod-mimic-root", osslOK: true},
		{file: "nested.sys", class: ClassTestSigned, ossl: "test-root", osslOK: true},
		{file: "cgroup_sock_addr.sys", code: CodeChain, ossl: "test-root", osslOK: false},
		{file: "untrusted.sys", code: CodeChain, ossl: "test-root", osslOK: false},
		{file: "no-ebpf-eku.sys", code: CodeProfile, ossl: "prod-mimic-root", osslOK: true, why: "osslsigncode does not check eBPF for Windows' EKU"},
		{file: "expired.sys", code: CodeValidity, ossl: "test-root", osslOK: false},
		{file: "tampered-section.sys", code: CodeAuthentihash, ossl: "test-root", osslOK: false},
		{file: "tampered-header.sys", code: CodeAuthentihash, ossl: "test-root", osslOK: false},
		{file: "tampered-signature.sys", code: CodePKCS7, ossl: "test-root", osslOK: false},
		{file: "timestamped-expired.sys", class: ClassTestSigned, ossl: "test-root", osslOK: true},
		{file: "untrusted-timestamp.sys", code: CodeTimestamp, ossl: "test-root", osslOK: true, why: "osslsigncode passes a signature whose certificates are still valid even when its timestamp does not verify; ebpfrepo refuses a countersignature that does not verify"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(fixtures, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Verify(data, testTrust(t))
			if tc.code != "" {
				var ve *Error
				if !errors.As(err, &ve) || ve.Code != tc.code {
					t.Fatalf("Verify = %v, %v; want error %s", rep, err, tc.code)
				}
			} else {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if rep.Class != tc.class {
					t.Errorf("class %s, want %s", rep.Class, tc.class)
				}
				if rep.Class != ClassUnsigned && (rep.Signatures[0].SigningTime.IsZero() || rep.Signatures[0].SHA1 == "") {
					t.Errorf("signature record incomplete: %+v", rep.Signatures[0])
				}
				if rep.Class != ClassUnsigned {
					if ts := rep.Signatures[0].Timestamp; strings.HasPrefix(tc.file, "timestamped") == ts.IsZero() {
						t.Errorf("timestamp %v on %s", ts, tc.file)
					}
				}
			}
			if tc.ossl == "" {
				return
			}
			if _, err := exec.LookPath("osslsigncode"); err != nil {
				t.Skip("osslsigncode not installed (Debian package osslsigncode): cannot cross-check")
			}
			ca := filepath.Join(fixtures, "keys", tc.ossl+".pem")
			out, _ := exec.Command("osslsigncode", "verify", "-CAfile", ca, "-TSA-CAfile", ca, "-in", filepath.Join(fixtures, tc.file)).CombinedOutput()
			osslOK := strings.Contains(string(out), "Signature verification: ok")
			if osslOK != tc.osslOK {
				t.Fatalf("osslsigncode verify: ok=%v, the test expects %v:\n%s", osslOK, tc.osslOK, out)
			}
			ours := err == nil && (tc.class == ClassProduction || tc.class == ClassTestSigned)
			if ours != osslOK && tc.why == "" {
				t.Errorf("ebpfrepo accepts=%v, osslsigncode accepts=%v, with no stated reason", ours, osslOK)
			}
		})
	}
}

// TestNestedUntrustedReported: a nested signature that verifies but
// chains to no pinned root does not count, and is reported.
func TestNestedUntrustedReported(t *testing.T) {
	data, _ := os.ReadFile(filepath.Join(fixtures, "nested.sys"))
	rep, err := Verify(data, testTrust(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Signatures) != 2 || !rep.Signatures[1].Nested || rep.Signatures[1].Class != "" || len(rep.Untrusted) != 1 || rep.Untrusted[0] != 1 {
		t.Errorf("report %+v", rep)
	}
}

// TestProductionNeedsPinnedRoot: the production mimic is only test-like
// junk without the pin: with the default trust (Microsoft's real root
// thumbprint) it chains to nothing.
func TestProductionNeedsPinnedRoot(t *testing.T) {
	data, _ := os.ReadFile(filepath.Join(fixtures, "production-mimic.sys"))
	_, err := Verify(data, Trust{})
	var ve *Error
	if !errors.As(err, &ve) || ve.Code != CodeChain {
		t.Fatalf("err = %v, want %s", err, CodeChain)
	}
}

func TestNotPE(t *testing.T) {
	for _, data := range [][]byte{nil, []byte("MZ"), []byte("\x7fELF not a pe"), make([]byte, 4096)} {
		if _, err := Verify(data, Trust{}); err == nil {
			t.Errorf("%q: no error", data[:min(len(data), 8)])
		}
	}
}

func FuzzVerify(f *testing.F) {
	for _, name := range []string{"test-signed.sys", "nested.sys", "unsigned.sys"} {
		data, err := os.ReadFile(filepath.Join(fixtures, name))
		if err == nil {
			f.Add(data)
		}
	}
	trust := testTrust(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := Verify(data, trust)
		if err == nil && rep == nil {
			t.Fatal("nil report without an error")
		}
	})
}

// TestGarbledSignatureBlob: a certificate table whose blob is not a
// PKCS#7 signature at all is hvci.parse, not "unsigned".
func TestGarbledSignatureBlob(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(fixtures, "test-signed.sys"))
	if err != nil {
		t.Fatal(err)
	}
	pe := int(binary.LittleEndian.Uint32(data[60:]))
	off := int(binary.LittleEndian.Uint32(data[pe+24+144:]))
	n := int(binary.LittleEndian.Uint32(data[off:]))
	for i := off + 8; i < off+n; i++ { // keep WIN_CERTIFICATE's header, garble the PKCS#7
		data[i] = 0x5a
	}
	_, err = Verify(data, testTrust(t))
	var ve *Error
	if !errors.As(err, &ve) || ve.Code != CodeParse {
		t.Fatalf("err = %v, want %s", err, CodeParse)
	}
}
