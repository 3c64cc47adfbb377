package kernelsig

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"
)

func sum(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

func FuzzParseSignature(f *testing.F) {
	for _, n := range []string{"loader.sig", "loadtime.sig", "signed-attrs.sig", "sha1.sig", "issuer-serial.sig", "with-certs.sig", "attached.sig"} {
		b, err := os.ReadFile(filepath.Join(fixtures, "parts", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSignature(b)
		if err == nil && (s.Signers != 1 || len(s.Value) == 0) {
			t.Fatalf("accepted %d signers, %d-byte value", s.Signers, len(s.Value))
		}
	})
}

func FuzzParseSkeleton(f *testing.F) {
	b, err := os.ReadFile(filepath.Join(fixtures, "counter.lskel.h"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("static const char opts_insn[] = \"\\x00\";\nstatic const char opts_data[] = \"\";"))
	f.Fuzz(func(t *testing.T, h []byte) {
		s, err := ParseSkeleton(h)
		if err == nil && s.Insns == nil {
			t.Fatal("accepted a skeleton without instructions")
		}
	})
}

// Verify never panics on hostile parts.
func FuzzVerify(f *testing.F) {
	l := goodLoader(f)
	f.Add(l.Insns, l.Data, l.Signature)
	f.Fuzz(func(t *testing.T, insns, data, sig []byte) {
		ll := goodLoader(t)
		ll.Insns, ll.Data, ll.Signature, ll.ExclHash = insns, data, sig, nil
		_, _ = Verify(ll, trusted(t))
	})
}
