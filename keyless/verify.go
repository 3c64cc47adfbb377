package keyless

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/ebpfrepo/ebpfrepo/index"
)

// The checks Verify makes, in order; a VerifyError names the one that
// failed.
const (
	CheckBundle    = "bundle"                   // the JSON, its media type and parts
	CheckTlog      = "transparency log"         // a Rekor entry of a trusted log: SET / inclusion proof
	CheckValidity  = "certificate validity"     // the certificate was valid when the log saw the signature
	CheckChain     = "certificate chain"        // the certificate chains to a trusted Fulcio CA
	CheckSCT       = "certificate transparency" // an SCT from a trusted CT log
	CheckIdentity  = "identity"                 // the certificate's subject is a granted identity
	CheckIssuer    = "issuer"                   // … issued for the granted OIDC issuer
	CheckDigest    = "artifact digest"          // the bundle covers this artifact's sha256
	CheckSignature = "signature"                // the signature over it verifies
)

// ErrVerify is matched, with errors.Is, by every VerifyError.
var ErrVerify = errors.New("keyless signature does not verify")

// VerifyError is a bundle that does not prove what its grant requires.
type VerifyError struct {
	Artifact  string // name@version/artifact, as the caller labels it
	Publisher string
	Check     string // Check*
	Found     string // what the bundle has, when it says
	Expected  string // what the grant or the artifact requires
	Err       error
}

func (e *VerifyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: keyless signature (publisher %s): %s check failed", e.Artifact, e.Publisher, e.Check)
	if e.Found != "" || e.Expected != "" {
		fmt.Fprintf(&b, ": found %s, expected %s", orNone(e.Found), orNone(e.Expected))
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func (e *VerifyError) Unwrap() error { return e.Err }

func (e *VerifyError) Is(target error) bool { return target == ErrVerify }

// TrustRoot is a Sigstore trusted_root.json, parsed.
type TrustRoot struct {
	root   *root.TrustedRoot
	SHA256 string // of the file's bytes
}

// ParseTrustRoot reads a trusted_root.json (the format `cosign
// trusted-root create` and Sigstore's TUF repository publish). It must
// name at least one Fulcio CA, CT log and Rekor log: keyless bundles are
// verified against all three.
func ParseTrustRoot(data []byte) (*TrustRoot, error) {
	if len(data) > MaxTrustRootSize {
		return nil, fmt.Errorf("trusted root: %d bytes, more than the limit of %d", len(data), MaxTrustRootSize)
	}
	tr, err := root.NewTrustedRootFromJSON(data)
	if err != nil {
		return nil, fmt.Errorf("trusted root: %w", err)
	}
	switch {
	case len(tr.FulcioCertificateAuthorities()) == 0:
		return nil, errors.New("trusted root: no certificate authority")
	case len(tr.CTLogs()) == 0:
		return nil, errors.New("trusted root: no CT log")
	case len(tr.RekorLogs()) == 0:
		return nil, errors.New("trusted root: no transparency log (tlogs)")
	}
	sum := sha256.Sum256(data)
	return &TrustRoot{root: tr, SHA256: hex.EncodeToString(sum[:])}, nil
}

// ParseBundle reads a Sigstore bundle (v0.1 to v0.3 JSON, as cosign
// sign-blob --bundle and GitHub's attestations write).
func ParseBundle(data []byte) (*bundle.Bundle, error) {
	if len(data) > MaxBundleSize {
		return nil, fmt.Errorf("%d bytes, more than the limit of %d", len(data), MaxBundleSize)
	}
	var b bundle.Bundle
	if err := b.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return &b, nil
}

// Verify checks, offline, that bundle signs the artifact whose sha256
// is sha256hex, by one of p's identities, under trust: a Rekor entry of
// a trusted log whose integrated time is inside the certificate's
// validity, the certificate chained to a trusted Fulcio CA with an SCT
// of a trusted CT log, the identity and issuer granted, and the
// signature (a message signature, or a DSSE in-toto statement with the
// artifact's digest as a subject) over the artifact. label names the
// artifact in errors. What the bundle proved is returned for the index.
func Verify(data []byte, sha256hex string, trust *TrustRoot, p Publisher, label string) (*index.KeylessSignature, error) {
	fail := func(check, found, expected string, err error) error {
		return &VerifyError{Artifact: label, Publisher: p.Name, Check: check, Found: found, Expected: expected, Err: err}
	}
	digest, err := hex.DecodeString(sha256hex)
	if err != nil || len(digest) != sha256.Size {
		return nil, fail(CheckDigest, "", "a sha256", fmt.Errorf("artifact digest %q", sha256hex))
	}
	if trust == nil {
		return nil, fail(CheckChain, "no trusted root", "the repository's pinned Sigstore trusted root", nil)
	}
	b, err := ParseBundle(data)
	if err != nil {
		return nil, fail(CheckBundle, "", "", err)
	}
	v := &verification{b: b, trust: trust.root, digest: digest, p: p}
	for _, st := range []struct {
		check string
		run   func() (found, expected string, err error)
	}{
		{CheckValidity, v.validity},
		{CheckTlog, v.tlog},
		{CheckChain, v.chain},
		{CheckSCT, v.sct},
		{CheckIdentity, v.identity},
		{CheckIssuer, v.issuer},
		{CheckDigest, v.covers},
		{CheckSignature, v.signature},
	} {
		if found, expected, err := st.run(); err != nil || found != expected {
			return nil, fail(st.check, found, expected, err)
		}
	}
	return v.evidence(), nil
}

// verification is one Verify: each stage takes what the earlier ones
// established.
type verification struct {
	b      *bundle.Bundle
	trust  *root.TrustedRoot
	digest []byte
	p      Publisher

	times   []root.Timestamp // the verified integrated times
	leaf    *x509.Certificate
	chains  [][]*x509.Certificate
	summary certificate.Summary
	granted *Identity
	kind    string
	predTyp string
}

func (v *verification) tlog() (string, string, error) {
	entries, err := v.b.TlogEntries()
	if err != nil {
		return "", "", err
	}
	if len(entries) == 0 {
		return "no log entry", "a Rekor entry", nil
	}
	ts, err := verify.VerifyTlogEntry(v.b, v.trust, 1, true)
	if err != nil {
		return "", "", err
	}
	if len(ts) == 0 {
		return "no verified integrated time", "one", nil
	}
	v.times = ts
	return "", "", nil
}

// validity compares the certificate with the times the log entries
// claim (tlog verifies them next): a certificate used outside its
// validity is reported as such, not as a log failure.
func (v *verification) validity() (string, string, error) {
	vc, err := v.b.VerificationContent()
	if err != nil {
		return "", "", err
	}
	v.leaf = vc.Certificate()
	if v.leaf == nil {
		return "a public key", "a Fulcio certificate (keyless bundles are certificate-signed)", nil
	}
	entries, err := v.b.TlogEntries()
	if err != nil {
		return "", "", err
	}
	for _, e := range entries {
		if t := e.IntegratedTime(); t.Before(v.leaf.NotBefore) || t.After(v.leaf.NotAfter) {
			return "signed at " + stamp(t),
				"within the certificate's validity " + stamp(v.leaf.NotBefore) + " – " + stamp(v.leaf.NotAfter), nil
		}
	}
	return "", "", nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (v *verification) chain() (string, string, error) {
	// Go's x509 does not parse an OtherName SAN (Fulcio issues them for
	// some identities) and refuses it as an unhandled critical extension;
	// SummarizeCertificate reads it. sigstore-go's Verify does the same.
	leaf := *v.leaf
	leaf.UnhandledCriticalExtensions = slices.DeleteFunc(slices.Clone(leaf.UnhandledCriticalExtensions),
		func(oid asn1.ObjectIdentifier) bool { return oid.Equal(cryptoutils.SANOID) })
	for _, t := range v.times {
		chains, err := verify.VerifyLeafCertificate(t.Time, &leaf, v.trust)
		if err != nil {
			return "certificate issued by " + leaf.Issuer.String(), "a Fulcio CA of the repository's trusted root", err
		}
		v.chains = chains
	}
	return "", "", nil
}

func (v *verification) sct() (string, string, error) {
	return "", "", verify.VerifySignedCertificateTimestamp(v.chains, 1, v.trust)
}

func (v *verification) identity() (string, string, error) {
	s, err := certificate.SummarizeCertificate(v.leaf)
	if err != nil {
		return "", "", err
	}
	v.summary = s
	var want []string
	for i, id := range v.p.Identities {
		if id.matchSAN(s.SubjectAlternativeName) {
			if v.granted == nil || id.Issuer == s.Extensions.Issuer {
				v.granted = &v.p.Identities[i]
			}
		}
		want = append(want, id.String())
	}
	if v.granted == nil {
		return s.SubjectAlternativeName, "one of " + strings.Join(want, ", "), nil
	}
	return "", "", nil
}

func (v *verification) issuer() (string, string, error) {
	if v.summary.Extensions.Issuer != v.granted.Issuer {
		return orNone(v.summary.Extensions.Issuer), v.granted.Issuer, nil
	}
	return "", "", nil
}

// covers checks that what the bundle signs is this artifact: a message
// signature's digest, or a subject of the DSSE statement.
func (v *verification) covers() (string, string, error) {
	want := "sha256:" + hex.EncodeToString(v.digest)
	sc, err := v.b.SignatureContent()
	if err != nil {
		return "", "", err
	}
	if ms := sc.MessageSignatureContent(); ms != nil {
		v.kind = "message-signature"
		got := strings.ToLower(ms.DigestAlgorithm()) + ":" + hex.EncodeToString(ms.Digest())
		if ms.DigestAlgorithm() == "SHA2_256" {
			got = "sha256:" + hex.EncodeToString(ms.Digest())
		}
		if got != want {
			return got, want, nil
		}
		return "", "", nil
	}
	env := sc.EnvelopeContent()
	if env == nil {
		return "nothing signed", want, nil
	}
	v.kind = "dsse"
	st, err := env.Statement()
	if err != nil {
		return "", "", fmt.Errorf("DSSE payload: %w (want an in-toto statement)", err)
	}
	v.predTyp = st.GetPredicateType()
	var got []string
	for _, s := range st.GetSubject() {
		d := s.GetDigest()["sha256"]
		if raw, err := hex.DecodeString(d); err == nil && bytes.Equal(raw, v.digest) {
			return "", "", nil
		}
		got = append(got, s.GetName()+" sha256:"+d)
	}
	return "subjects " + strings.Join(got, ", "), "a subject " + want, nil
}

// signature runs sigstore-go's whole verification with the policy the
// earlier stages established: it checks the signature itself, and
// everything again as one.
func (v *verification) signature() (string, string, error) {
	ver, err := verify.NewVerifier(v.trust, verify.WithTransparencyLog(1), verify.WithIntegratedTimestamps(1), verify.WithSignedCertificateTimestamps(1))
	if err != nil {
		return "", "", err
	}
	id, err := verify.NewShortCertificateIdentity(v.granted.Issuer, "", v.summary.SubjectAlternativeName, "")
	if err != nil {
		return "", "", err
	}
	_, err = ver.Verify(v.b, verify.NewPolicy(verify.WithArtifactDigest("sha256", v.digest), verify.WithCertificateIdentity(id)))
	return "", "", err
}

// evidence is what the index records of a verified bundle.
func (v *verification) evidence() *index.KeylessSignature {
	e := v.summary.Extensions
	ks := &index.KeylessSignature{
		Publisher:     v.p.Name,
		Kind:          v.kind,
		PredicateType: v.predTyp,
		Identity:      v.summary.SubjectAlternativeName,
		Issuer:        e.Issuer,
		Repository:    e.SourceRepositoryURI,
		Ref:           e.SourceRepositoryRef,
		Commit:        e.SourceRepositoryDigest,
		Workflow:      e.BuildConfigURI,
		Run:           e.RunInvocationURI,
	}
	if entries, err := v.b.TlogEntries(); err == nil && len(entries) > 0 {
		ent := entries[0]
		ks.LogIndex = ent.LogIndex()
		ks.LogID = hex.EncodeToString([]byte(ent.LogKeyID()))
		ks.IntegratedTime = ent.IntegratedTime().UTC()
		if l := v.trust.RekorLogs()[ks.LogID]; l != nil {
			ks.Log = l.BaseURL
		}
	}
	return ks
}
