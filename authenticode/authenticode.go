package authenticode

import (
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ayoubfaouzi/pkcs7"
	"github.com/saferwall/pe"
	peLog "github.com/saferwall/pe/log"
)

// Class is what a driver's signatures make it, for HVCI.
type Class string

const (
	ClassProduction Class = "production-ebpf"
	ClassTestSigned Class = "test-signed"
	ClassUnsigned   Class = "unsigned"
)

// rank orders the classes, best last.
func (c Class) rank() int {
	switch c {
	case ClassProduction:
		return 2
	case ClassTestSigned:
		return 1
	}
	return 0
}

// MicrosoftRoot2011 is the SHA-1 thumbprint of Microsoft Root Certificate
// Authority 2011, the root eBPF for Windows requires of a production
// native program (libs/service/api_service.cpp).
const MicrosoftRoot2011 = "8f43288ad272f3103b6fb1428485ea3014c0bcfe"

// ProductionSubject is the signer's common name eBPF for Windows requires.
const ProductionSubject = "Microsoft Corporation eBPF Verification"

// The EKUs eBPF for Windows requires of the production signer.
var (
	ekuCodeSigning  = "1.3.6.1.5.5.7.3.3"
	ekuEBPFVerified = "1.3.6.1.4.1.311.133.1"
)

// MaxSize bounds the files Verify reads.
const MaxSize = 64 << 20

// Error codes, one per verification step.
const (
	CodeParse        = "hvci.parse"        // not a PE file, or a signature that does not parse
	CodeAuthentihash = "hvci.authentihash" // the file's authentihash is not the signed digest: tampered
	CodePKCS7        = "hvci.pkcs7"        // the PKCS#7 signature does not verify
	CodeChain        = "hvci.chain"        // no signature chains to a pinned root
	CodeValidity     = "hvci.validity"     // a certificate not valid at the signing time
	CodeProfile      = "hvci.profile"      // chains to the production root without the eBPF profile
)

// Error is a driver that failed a verification step.
type Error struct {
	Code      string // one of the Code constants
	Signature int    // which signature (0 the primary, then nested ones); -1 for the file
	Err       error
}

func (e *Error) Error() string {
	if e.Signature < 0 {
		return fmt.Sprintf("%v [%s]", e.Err, e.Code)
	}
	return fmt.Sprintf("signature %d: %v [%s]", e.Signature, e.Err, e.Code)
}

func (e *Error) Unwrap() error { return e.Err }

// Trust is what Verify trusts. The zero value trusts the production
// root by thumbprint and no test root.
type Trust struct {
	// ProductionThumbprints are the SHA-1 thumbprints (hex) of the roots
	// a production-ebpf signature must chain to; nil means
	// MicrosoftRoot2011. The root certificate itself must be in the
	// signature or in ProductionRoots.
	ProductionThumbprints []string
	// ProductionRoots are certificates of those roots, for signatures
	// that do not carry their root.
	ProductionRoots []*x509.Certificate
	// TestRoots are the test roots the repository pins: a signature
	// chaining to one is test-signed.
	TestRoots []*x509.Certificate
	// TimestampThumbprints are the SHA-1 thumbprints of the roots an
	// RFC 3161 time-stamping authority must chain to; nil means
	// MicrosoftTimestampRoot2010. TimestampRoots are more roots (test
	// time-stamping authorities).
	TimestampThumbprints []string
	TimestampRoots       []*x509.Certificate
	// Now is the time certificates are checked at when a signature has
	// no trusted RFC 3161 timestamp; zero means the current time.
	Now time.Time
}

// Signature is what one signature of a driver says.
type Signature struct {
	Nested          bool      `json:"nested"`
	DigestAlgorithm string    `json:"digest_algorithm"` // "sha256"
	Subject         string    `json:"subject"`          // the signer certificate's subject
	Issuer          string    `json:"issuer"`
	SHA1            string    `json:"sha1"`   // thumbprints of the signer certificate
	SHA256          string    `json:"sha256"` //
	Root            string    `json:"root,omitempty"`
	RootSHA1        string    `json:"root_sha1,omitempty"`
	EKUs            []string  `json:"ekus"`
	SigningTime     time.Time `json:"signing_time,omitzero"` // the signer's own signingTime attribute: a claim, not evidence
	Timestamp       time.Time `json:"timestamp,omitzero"`    // the time a pinned RFC 3161 time-stamping authority attests
	NotBefore       time.Time `json:"not_before"`
	NotAfter        time.Time `json:"not_after"`
	// Class is this signature's class; "" when it chains to no pinned root.
	Class Class `json:"class,omitempty"`
}

// Report is the verdict on a driver.
type Report struct {
	Class        Class       `json:"class"`
	Authentihash string      `json:"authentihash"` // sha256, hex
	Signatures   []Signature `json:"signatures"`
	// Untrusted lists the signatures that verify but chain to no pinned
	// root, when another signature is trusted.
	Untrusted []int `json:"untrusted,omitempty"`
}

// Verify checks every Authenticode signature of the PE file data against
// trust, as the package documentation describes. An unsigned file is
// ClassUnsigned, not an error.
func Verify(data []byte, trust Trust) (rep *Report, err error) {
	if len(data) > MaxSize {
		return nil, &Error{Code: CodeParse, Signature: -1, Err: fmt.Errorf("%d bytes: more than the %d a driver may have", len(data), MaxSize)}
	}
	defer func() {
		if r := recover(); r != nil {
			rep, err = nil, &Error{Code: CodeParse, Signature: -1, Err: fmt.Errorf("malformed PE file (the parser failed: %v)", r)}
		}
	}()
	f, err := pe.NewBytes(data, &pe.Options{DisableCertValidation: true, DisableSignatureValidation: true,
		OmitExportDirectory: true, OmitImportDirectory: true, OmitResourceDirectory: true, OmitRelocDirectory: true,
		OmitDebugDirectory: true, OmitExceptionDirectory: true, Logger: nopLogger{}})
	if err != nil {
		return nil, &Error{Code: CodeParse, Signature: -1, Err: fmt.Errorf("not a PE file: %w", err)}
	}
	defer f.Close()
	if err := f.Parse(); err != nil {
		return nil, &Error{Code: CodeParse, Signature: -1, Err: fmt.Errorf("not a PE file: %w", err)}
	}
	h := f.AuthentihashExt(sha256.New())
	rep = &Report{Class: ClassUnsigned, Signatures: []Signature{}}
	if len(h) > 0 {
		rep.Authentihash = hex.EncodeToString(h[0])
	}
	if !f.HasCertificate && !f.IsSigned {
		return rep, nil
	}
	if len(f.Certificates.Certificates) == 0 {
		return nil, &Error{Code: CodeParse, Signature: 0, Err: errors.New("the file has a certificate table, but no signature in it parses")}
	}
	for i := range f.Certificates.Certificates {
		s, err := checkSignature(f, &f.Certificates.Certificates[i], i, trust)
		if err != nil {
			return nil, err
		}
		rep.Signatures = append(rep.Signatures, *s)
	}
	for i, s := range rep.Signatures {
		if s.Class.rank() > rep.Class.rank() {
			rep.Class = s.Class
		}
		if s.Class == "" {
			rep.Untrusted = append(rep.Untrusted, i)
		}
	}
	if rep.Class == ClassUnsigned {
		s := rep.Signatures[0]
		return nil, &Error{Code: CodeChain, Signature: 0, Err: fmt.Errorf("signed by %q (issued by %q), which chains to no root this repository trusts: "+
			"for a test-signed driver pin its test root ([windows] test_roots in ebpfrepo.toml); a production driver is signed by %q under Microsoft Root Certificate Authority 2011",
			s.Subject, s.Issuer, ProductionSubject)}
	}
	return rep, nil
}

// checkSignature runs every step on signature i.
func checkSignature(f *pe.File, c *pe.Certificate, i int, trust Trust) (*Signature, error) {
	fail := func(code string, format string, args ...any) error {
		return &Error{Code: code, Signature: i, Err: fmt.Errorf(format, args...)}
	}
	p7 := &c.Content
	signer := p7.GetOnlySigner()
	if signer == nil {
		return nil, fail(CodeParse, "no signer certificate in the signature")
	}
	s := &Signature{Nested: i > 0, Subject: signer.Subject.String(), Issuer: signer.Issuer.String(),
		SHA1: thumb1(signer), SHA256: thumb256(signer), EKUs: ekus(signer), NotBefore: signer.NotBefore, NotAfter: signer.NotAfter}
	// 1. The file: its authentihash, by the signature's own algorithm.
	hf := c.SignatureContent.HashFunction
	if !hf.Available() || (hf != crypto.SHA256 && hf != crypto.SHA384 && hf != crypto.SHA512 && hf != crypto.SHA1) {
		return nil, fail(CodeParse, "unsupported digest algorithm %v", hf)
	}
	s.DigestAlgorithm = strings.ToLower(strings.ReplaceAll(hf.String(), "-", ""))
	got := f.AuthentihashExt(hf.New())
	if len(got) == 0 || !slices.Equal(got[0], c.SignatureContent.HashResult) {
		return nil, fail(CodeAuthentihash, "the file's authentihash (%s %x) is not the digest the signature covers (%x): the file was changed after it was signed", s.DigestAlgorithm, first(got), c.SignatureContent.HashResult)
	}
	// 2. The PKCS#7 signature over the SpcIndirectData.
	if err := p7.Verify(); err != nil {
		var te *pkcs7.SigningTimeNotValidError
		if errors.As(err, &te) {
			return nil, fail(CodeValidity, "signed at %s, outside the signer certificate's validity (%s to %s)",
				te.SigningTime.UTC().Format(time.RFC3339), te.NotBefore.UTC().Format(time.RFC3339), te.NotAfter.UTC().Format(time.RFC3339))
		}
		return nil, fail(CodePKCS7, "the PKCS#7 signature does not verify: %v", err)
	}
	var st time.Time
	if err := p7.UnmarshalSignedAttribute(oidSigningTime, &st); err == nil {
		s.SigningTime = st.UTC()
	}
	// The certificates are checked at the time a trusted time-stamping
	// authority attests, else now: the signer's own signingTime is a claim
	// anyone holding an expired key could backdate.
	ts, err := timestampOf(p7, trust)
	if err != nil {
		return nil, fail(CodeTimestamp, "%v", err)
	}
	s.Timestamp = ts
	at := ts
	if at.IsZero() {
		at = trust.Now
		if at.IsZero() {
			at = time.Now()
		}
	}
	// 3. The chain, to a pinned root, at the signing time.
	inter := x509.NewCertPool()
	prod := x509.NewCertPool()
	test := x509.NewCertPool()
	prints := trust.ProductionThumbprints
	if prints == nil {
		prints = []string{MicrosoftRoot2011}
	}
	for _, r := range trust.ProductionRoots {
		if slices.Contains(prints, thumb1(r)) {
			prod.AddCert(r)
		}
	}
	for _, r := range trust.TestRoots {
		test.AddCert(r)
	}
	for _, ct := range p7.Certificates {
		if slices.Contains(prints, thumb1(ct)) && ct.CheckSignatureFrom(ct) == nil {
			prod.AddCert(ct) // the production root, carried in the signature, pinned by thumbprint
			continue
		}
		inter.AddCert(ct)
	}
	chainTo := func(roots *x509.CertPool) ([]*x509.Certificate, error) {
		chains, err := signer.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}})
		if err != nil {
			return nil, err
		}
		return chains[0], nil
	}
	expired := func(err error) bool {
		var ce x509.CertificateInvalidError
		return errors.As(err, &ce) && ce.Reason == x509.Expired
	}
	if chain, err := chainTo(prod); err == nil {
		root := chain[len(chain)-1]
		s.Root, s.RootSHA1 = root.Subject.String(), thumb1(root)
		if signer.Subject.CommonName != ProductionSubject || !slices.Contains(s.EKUs, ekuCodeSigning) || !slices.Contains(s.EKUs, ekuEBPFVerified) {
			return nil, fail(CodeProfile, "chains to the eBPF for Windows production root, but the signer %q is not the eBPF verification profile (subject %q, EKUs %s and %s; it has %s): eBPF for Windows would refuse it",
				s.Subject, ProductionSubject, ekuCodeSigning, ekuEBPFVerified, strings.Join(s.EKUs, ", "))
		}
		s.Class = ClassProduction
		return s, nil
	} else if expired(err) {
		return nil, fail(CodeValidity, "a certificate of the chain is not valid at %s (%s): %v", at.UTC().Format(time.RFC3339), whenChecked(ts), err)
	}
	if chain, err := chainTo(test); err == nil {
		root := chain[len(chain)-1]
		s.Root, s.RootSHA1 = root.Subject.String(), thumb1(root)
		s.Class = ClassTestSigned
		return s, nil
	} else if expired(err) {
		return nil, fail(CodeValidity, "a certificate of the chain is not valid at %s (%s): %v", at.UTC().Format(time.RFC3339), whenChecked(ts), err)
	}
	return s, nil // verifies, but trusted by nothing pinned
}

var oidSigningTime = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}

// whenChecked says which time the chain was checked at.
func whenChecked(ts time.Time) string {
	if ts.IsZero() {
		return "now: the signature has no trusted RFC 3161 timestamp, so its certificates must still be valid"
	}
	return "the time its RFC 3161 timestamp attests"
}

func first(b [][]byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b[0]
}

func thumb1(c *x509.Certificate) string {
	s := sha1.Sum(c.Raw)
	return hex.EncodeToString(s[:])
}

func thumb256(c *x509.Certificate) string {
	s := sha256.Sum256(c.Raw)
	return hex.EncodeToString(s[:])
}

// ekus lists a certificate's extended key usages as dotted OIDs.
func ekus(c *x509.Certificate) []string {
	known := map[x509.ExtKeyUsage]string{
		x509.ExtKeyUsageAny: "2.5.29.37.0", x509.ExtKeyUsageServerAuth: "1.3.6.1.5.5.7.3.1", x509.ExtKeyUsageClientAuth: "1.3.6.1.5.5.7.3.2",
		x509.ExtKeyUsageCodeSigning: ekuCodeSigning, x509.ExtKeyUsageEmailProtection: "1.3.6.1.5.5.7.3.4", x509.ExtKeyUsageTimeStamping: "1.3.6.1.5.5.7.3.8",
	}
	out := []string{}
	for _, u := range c.ExtKeyUsage {
		if o, ok := known[u]; ok {
			out = append(out, o)
		}
	}
	for _, o := range c.UnknownExtKeyUsage {
		out = append(out, o.String())
	}
	slices.Sort(out)
	return out
}

// nopLogger silences the PE parser: what matters is returned as errors.
type nopLogger struct{}

func (nopLogger) Log(peLog.Level, ...any) error { return nil }

// Sections lists the names of a PE file's sections (a native eBPF for
// Windows driver keeps each program's code in a section named after it,
// and its maps in one of their own); nil for data that is not a PE file.
func Sections(data []byte) (names []string) {
	if len(data) > MaxSize {
		return nil
	}
	defer func() {
		if recover() != nil {
			names = nil
		}
	}()
	f, err := pe.NewBytes(data, &pe.Options{Fast: true, Logger: nopLogger{}})
	if err != nil {
		return nil
	}
	defer f.Close()
	if f.Parse() != nil {
		return nil
	}
	names = []string{}
	for _, s := range f.Sections {
		names = append(names, strings.TrimRight(string(s.Header.Name[:]), "\x00"))
	}
	return names
}
