package pemcert

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestReadFile(t *testing.T) {
	cs, err := ReadFile("../../testdata/kernelsig/parts/signer.pem")
	if err != nil || len(cs) != 1 || cs[0].Subject.CommonName != "ebpfrepo TEST-ONLY bpf signer" {
		t.Fatalf("signer.pem: %v, %d certificates", err, len(cs))
	}
	dir := t.TempDir()
	for name, body := range map[string]string{
		"key-only.pem": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		"empty.pem":    "",
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		if _, err := ReadFile(p); !errors.Is(err, ErrNone) {
			t.Errorf("%s: %v, want ErrNone", name, err)
		}
	}
	bad := filepath.Join(dir, "bad.pem")
	os.WriteFile(bad, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o644)
	if _, err := ReadFile(bad); err == nil || errors.Is(err, ErrNone) {
		t.Errorf("bad.pem: %v, want a parse error", err)
	}
}
