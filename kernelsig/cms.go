package kernelsig

import (
	"encoding/asn1"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// MaxSignature bounds a detached signature's DER.
const MaxSignature = 64 << 10

var (
	oidSignedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidData       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSHA256     = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA1       = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidRSA        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidRSASHA256  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidECDSA256   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECPublic   = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
)

// Signature is what a detached CMS SignedData says, as parsed: not yet
// checked against anything.
type Signature struct {
	Signers       int                   // SignerInfos present
	Certificates  bool                  // certificates embedded (bpftool: NOCERTS)
	Attached      bool                  // eContent present (the kernel wants it detached)
	SubjectKeyID  []byte                // the signer's SubjectKeyIdentifier; nil if identified by issuer and serial
	IssuerSerial  bool                  // the signer is identified by issuer and serial number
	Digest        asn1.ObjectIdentifier // the SignerInfo's digestAlgorithm
	SignedAttrs   bool                  // signed attributes present (bpftool: NOATTR)
	SignatureAlgo asn1.ObjectIdentifier
	Value         []byte // the signature value
}

// DigestName is the digest algorithm's name.
func (s *Signature) DigestName() string {
	switch {
	case s.Digest.Equal(oidSHA256):
		return "sha256"
	case s.Digest.Equal(oidSHA1):
		return "sha1"
	}
	return s.Digest.String()
}

var errDER = errors.New("malformed DER")

// ParseSignature parses a detached CMS SignedData (RFC 5652) with one
// SignerInfo. It never panics, and refuses more than MaxSignature bytes,
// trailing data, indefinite lengths and more than one signer.
func ParseSignature(der []byte) (*Signature, error) {
	if len(der) > MaxSignature {
		return nil, fmt.Errorf("signature is %d bytes, over the %d-byte limit", len(der), MaxSignature)
	}
	in := cryptobyte.String(der)
	var ci, content cryptobyte.String
	var ctype asn1.ObjectIdentifier
	if !in.ReadASN1(&ci, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, fmt.Errorf("ContentInfo: %w", errDER)
	}
	if !ci.ReadASN1ObjectIdentifier(&ctype) || !ctype.Equal(oidSignedData) {
		return nil, fmt.Errorf("ContentInfo: content type %v, want signedData (%v)", ctype, oidSignedData)
	}
	if !ci.ReadASN1(&content, cbasn1.Tag(0).Constructed().ContextSpecific()) || !ci.Empty() {
		return nil, fmt.Errorf("ContentInfo content: %w", errDER)
	}
	var sd cryptobyte.String
	if !content.ReadASN1(&sd, cbasn1.SEQUENCE) || !content.Empty() {
		return nil, fmt.Errorf("SignedData: %w", errDER)
	}
	var version int
	var digestAlgs, encap, signerInfos cryptobyte.String
	if !sd.ReadASN1Integer(&version) || !sd.ReadASN1(&digestAlgs, cbasn1.SET) || !sd.ReadASN1(&encap, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("SignedData: %w", errDER)
	}
	s := &Signature{}
	var etype asn1.ObjectIdentifier
	if !encap.ReadASN1ObjectIdentifier(&etype) || !etype.Equal(oidData) {
		return nil, fmt.Errorf("encapContentInfo: content type %v, want data", etype)
	}
	s.Attached = !encap.Empty()
	var skip cryptobyte.String
	var present bool
	if !sd.ReadOptionalASN1(&skip, &present, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, fmt.Errorf("SignedData certificates: %w", errDER)
	}
	s.Certificates = present
	if !sd.ReadOptionalASN1(&skip, nil, cbasn1.Tag(1).Constructed().ContextSpecific()) ||
		!sd.ReadASN1(&signerInfos, cbasn1.SET) || !sd.Empty() {
		return nil, fmt.Errorf("SignedData signerInfos: %w", errDER)
	}
	var si cryptobyte.String
	for !signerInfos.Empty() {
		if !signerInfos.ReadASN1(&si, cbasn1.SEQUENCE) {
			return nil, fmt.Errorf("SignerInfo: %w", errDER)
		}
		s.Signers++
	}
	if s.Signers != 1 {
		return s, fmt.Errorf("%d SignerInfos, want exactly 1", s.Signers)
	}
	if err := s.parseSignerInfo(si); err != nil {
		return s, err
	}
	return s, nil
}

func (s *Signature) parseSignerInfo(si cryptobyte.String) error {
	var version int
	if !si.ReadASN1Integer(&version) {
		return fmt.Errorf("SignerInfo version: %w", errDER)
	}
	switch {
	case si.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific()):
		var skid cryptobyte.String
		if !si.ReadASN1(&skid, cbasn1.Tag(0).ContextSpecific()) || len(skid) == 0 {
			return fmt.Errorf("SignerInfo subjectKeyIdentifier: %w", errDER)
		}
		s.SubjectKeyID = append([]byte(nil), skid...)
	case si.PeekASN1Tag(cbasn1.SEQUENCE):
		var isn cryptobyte.String
		if !si.ReadASN1(&isn, cbasn1.SEQUENCE) {
			return fmt.Errorf("SignerInfo issuerAndSerialNumber: %w", errDER)
		}
		s.IssuerSerial = true
	default:
		return fmt.Errorf("SignerInfo sid: %w", errDER)
	}
	var alg cryptobyte.String
	if !si.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&s.Digest) {
		return fmt.Errorf("SignerInfo digestAlgorithm: %w", errDER)
	}
	var skip cryptobyte.String
	var present bool
	if !si.ReadOptionalASN1(&skip, &present, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return fmt.Errorf("SignerInfo signedAttrs: %w", errDER)
	}
	s.SignedAttrs = present
	var salg, value cryptobyte.String
	if !si.ReadASN1(&salg, cbasn1.SEQUENCE) || !salg.ReadASN1ObjectIdentifier(&s.SignatureAlgo) {
		return fmt.Errorf("SignerInfo signatureAlgorithm: %w", errDER)
	}
	if !si.ReadASN1(&value, cbasn1.OCTET_STRING) || len(value) == 0 {
		return fmt.Errorf("SignerInfo signature: %w", errDER)
	}
	s.Value = append([]byte(nil), value...)
	if !si.ReadOptionalASN1(&skip, nil, cbasn1.Tag(1).Constructed().ContextSpecific()) || !si.Empty() {
		return fmt.Errorf("SignerInfo unsignedAttrs: %w", errDER)
	}
	return nil
}
