package pemcert

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// MaxFile bounds a certificate file.
const MaxFile = 4 << 20

// ErrNone is returned for a file without a CERTIFICATE block.
var ErrNone = errors.New("no PEM certificate")

// ReadFile returns every CERTIFICATE block of a PEM file, in order; other
// blocks are skipped. A file with none is an error (ErrNone).
func ReadFile(path string) ([]*x509.Certificate, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > MaxFile {
		return nil, fmt.Errorf("%s: %d bytes, over the %d-byte limit", path, st.Size(), MaxFile)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: %w", path, ErrNone)
	}
	return out, nil
}
