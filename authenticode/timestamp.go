package authenticode

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/ayoubfaouzi/pkcs7"
)

// MicrosoftTimestampRoot2010 is the SHA-1 thumbprint of Microsoft Root
// Certificate Authority 2010, the root of Microsoft's time-stamping
// service, pinned like the production root.
const MicrosoftTimestampRoot2010 = "3b1efd3a66ea28b16697394703a72ca340a05bd5"

// CodeTimestamp is an RFC 3161 countersignature that does not verify.
const CodeTimestamp = "hvci.timestamp"

// oidRFC3161CounterSign is the unsigned attribute Authenticode carries an
// RFC 3161 time-stamp token in (szOID_RFC3161_counterSign).
var oidRFC3161CounterSign = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 3, 3, 1}

// tstInfo is RFC 3161's TSTInfo, as far as it is needed; what follows
// genTime (accuracy, ordering, nonce, tsa, extensions) is not.
type tstInfo struct {
	Version        int
	Policy         asn1.ObjectIdentifier
	MessageImprint struct {
		HashAlgorithm pkix.AlgorithmIdentifier
		HashedMessage []byte
	}
	SerialNumber *big.Int
	GenTime      time.Time `asn1:"generalized"`
}

var hashByOID = map[string]crypto.Hash{
	"1.3.14.3.2.26":          crypto.SHA1,
	"2.16.840.1.101.3.4.2.1": crypto.SHA256,
	"2.16.840.1.101.3.4.2.2": crypto.SHA384,
	"2.16.840.1.101.3.4.2.3": crypto.SHA512,
}

// timestampOf verifies the RFC 3161 countersignature of p7's signer, if
// it has one, and returns the time it attests; zero without one. A token
// that does not verify — signature, message imprint (the hash of the
// signer's signature value), or chain to a pinned time-stamping root at
// its own time — is an error.
func timestampOf(p7 *pkcs7.PKCS7, trust Trust) (time.Time, error) {
	var tok asn1.RawValue
	if err := p7.UnmarshalUnsignedAttribute(oidRFC3161CounterSign, &tok); err != nil {
		var nf pkcs7.AttributeNotFoundError
		if errors.As(err, &nf) {
			return time.Time{}, nil
		}
		return time.Time{}, fmt.Errorf("the RFC 3161 countersignature does not parse: %w", err)
	}
	ts, err := pkcs7.Parse(tok.FullBytes)
	if err != nil {
		return time.Time{}, fmt.Errorf("the RFC 3161 time-stamp token does not parse: %w", err)
	}
	if err := ts.Verify(); err != nil {
		return time.Time{}, fmt.Errorf("the time-stamp token's signature does not verify: %w", err)
	}
	var info tstInfo
	if _, err := asn1.Unmarshal(ts.Content, &info); err != nil {
		return time.Time{}, fmt.Errorf("the time-stamp token's TSTInfo does not parse: %w", err)
	}
	h, ok := hashByOID[info.MessageImprint.HashAlgorithm.Algorithm.String()]
	if !ok || !h.Available() || len(p7.Signers) != 1 {
		return time.Time{}, fmt.Errorf("the time-stamp token's message imprint uses %v, which this check does not know", info.MessageImprint.HashAlgorithm.Algorithm)
	}
	d := h.New()
	d.Write(p7.Signers[0].EncryptedDigest)
	if !bytes.Equal(d.Sum(nil), info.MessageImprint.HashedMessage) {
		return time.Time{}, errors.New("the time-stamp token stamps another signature (its message imprint is not the hash of this signature's value)")
	}
	tsa := ts.GetOnlySigner()
	if tsa == nil {
		return time.Time{}, errors.New("the time-stamp token has no signer certificate")
	}
	prints := trust.TimestampThumbprints
	if prints == nil {
		prints = []string{MicrosoftTimestampRoot2010}
	}
	roots := x509.NewCertPool()
	for _, r := range trust.TimestampRoots {
		roots.AddCert(r)
	}
	inter := x509.NewCertPool()
	for _, c := range ts.Certificates {
		if slices.Contains(prints, thumb1(c)) && c.CheckSignatureFrom(c) == nil {
			roots.AddCert(c)
			continue
		}
		inter.AddCert(c)
	}
	if _, err := tsa.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: info.GenTime,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}); err != nil {
		return time.Time{}, fmt.Errorf("the time-stamping authority %q chains to no pinned time-stamping root: %w", tsa.Subject.String(), err)
	}
	return info.GenTime.UTC(), nil
}
