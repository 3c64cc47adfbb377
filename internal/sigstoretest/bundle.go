package sigstoretest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/url"
	"time"

	ct "github.com/google/certificate-transparency-go"
	cttls "github.com/google/certificate-transparency-go/tls"
	ctx509util "github.com/google/certificate-transparency-go/x509util"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	rekorutil "github.com/sigstore/rekor/pkg/util"
	"github.com/sigstore/sigstore/pkg/signature"
	"google.golang.org/protobuf/encoding/protojson"
)

// Signer is who signs: the OIDC identity the CA puts in the certificate,
// and for CI the GitHub Actions claims (Fulcio's extensions).
type Signer struct {
	Identity   string // the subject: a URI (a workflow) or an e-mail address
	Issuer     string
	Repository string // source repository URI
	Ref        string
	Commit     string
	Workflow   string // build config URI
	Run        string // run invocation URI
}

// GitHubWorkflow is the signer a GitHub Actions workflow is: the
// identity https://github.com/<repo>/<workflow>@<ref> from the issuer
// https://token.actions.githubusercontent.com.
func GitHubWorkflow(repo, workflow, ref, commit string) Signer {
	id := "https://github.com/" + repo + "/" + workflow + "@" + ref
	return Signer{Identity: id, Issuer: "https://token.actions.githubusercontent.com",
		Repository: "https://github.com/" + repo, Ref: ref, Commit: commit, Workflow: id,
		Run: "https://github.com/" + repo + "/actions/runs/1"}
}

// Options shape a bundle; the zero value makes a valid message
// signature signed now.
type Options struct {
	SignedAt time.Time // the log's integrated time; zero: now
	// NotBefore and NotAfter bound the certificate; zero: from a minute
	// before SignedAt for ten minutes, as Fulcio issues them.
	NotBefore, NotAfter time.Time
	DSSE                bool   // an in-toto statement in a DSSE envelope, not a message signature
	SubjectName         string // the statement's subject (DSSE), default "artifact"
	NoTlog              bool   // no transparency-log entry
	NoSCT               bool   // a certificate without an embedded SCT
	// BadSignature signs other bytes than it claims to (and logs that
	// signature): everything else about the bundle is consistent.
	BadSignature bool
	LogIndex     int64
}

// Bundle signs artifact as s and returns the bundle's JSON (v0.3).
func (in *Instance) Bundle(artifact []byte, s Signer, o Options) ([]byte, error) {
	if o.SignedAt.IsZero() {
		o.SignedAt = time.Now()
	}
	o.SignedAt = o.SignedAt.UTC().Truncate(time.Second)
	if o.NotBefore.IsZero() {
		o.NotBefore = o.SignedAt.Add(-time.Minute)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = o.NotBefore.Add(10 * time.Minute)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leaf, err := in.leaf(key, s, o)
	if err != nil {
		return nil, err
	}
	leafPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw})
	digest := sha256.Sum256(artifact)
	b := &protobundle.Bundle{
		MediaType:            "application/vnd.dev.sigstore.bundle.v0.3+json",
		VerificationMaterial: &protobundle.VerificationMaterial{Content: &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: leaf.Raw}}},
	}
	var body []byte
	var kind string
	if o.DSSE {
		payload, err := statement(o.SubjectName, digest[:])
		if err != nil {
			return nil, err
		}
		const typ = "application/vnd.in-toto+json"
		pae := fmt.Sprintf("DSSEv1 %d %s %d %s", len(typ), typ, len(payload), payload)
		h := sha256.Sum256([]byte(pae))
		if o.BadSignature {
			h = sha256.Sum256([]byte("not what the envelope holds"))
		}
		sig, err := ecdsa.SignASN1(rand.Reader, key, h[:])
		if err != nil {
			return nil, err
		}
		env := &protodsse.Envelope{Payload: payload, PayloadType: typ, Signatures: []*protodsse.Signature{{Sig: sig}}}
		b.Content = &protobundle.Bundle_DsseEnvelope{DsseEnvelope: env}
		envJSON, err := json.Marshal(map[string]any{"payload": base64.StdEncoding.EncodeToString(payload), "payloadType": typ,
			"signatures": []map[string]string{{"sig": base64.StdEncoding.EncodeToString(sig)}}})
		if err != nil {
			return nil, err
		}
		ph, eh := sha256.Sum256(payload), sha256.Sum256(envJSON)
		kind = "dsse"
		body, err = json.Marshal(map[string]any{"apiVersion": "0.0.1", "kind": kind, "spec": map[string]any{
			"envelopeHash": map[string]string{"algorithm": "sha256", "value": hex.EncodeToString(eh[:])},
			"payloadHash":  map[string]string{"algorithm": "sha256", "value": hex.EncodeToString(ph[:])},
			"signatures":   []map[string]string{{"signature": base64.StdEncoding.EncodeToString(sig), "verifier": base64.StdEncoding.EncodeToString(leafPEM)}},
		}})
		if err != nil {
			return nil, err
		}
	} else {
		signed := digest
		if o.BadSignature {
			signed = sha256.Sum256([]byte("not the artifact"))
		}
		sig, err := ecdsa.SignASN1(rand.Reader, key, signed[:])
		if err != nil {
			return nil, err
		}
		b.Content = &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: digest[:]}, Signature: sig}}
		kind = "hashedrekord"
		body, err = json.Marshal(map[string]any{"apiVersion": "0.0.1", "kind": kind, "spec": map[string]any{
			"data":      map[string]any{"hash": map[string]string{"algorithm": "sha256", "value": hex.EncodeToString(digest[:])}},
			"signature": map[string]any{"content": base64.StdEncoding.EncodeToString(sig), "publicKey": map[string]string{"content": base64.StdEncoding.EncodeToString(leafPEM)}},
		}})
		if err != nil {
			return nil, err
		}
	}
	if !o.NoTlog {
		e, err := in.logEntry(body, kind, o.SignedAt, o.LogIndex)
		if err != nil {
			return nil, err
		}
		b.VerificationMaterial.TlogEntries = []*protorekor.TransparencyLogEntry{e}
	}
	data, err := protojson.Marshal(b)
	if err != nil {
		return nil, err
	}
	return stable(data)
}

// statement is an in-toto v1 statement (SLSA provenance predicate type,
// as GitHub's attestations) with one subject.
func statement(name string, digest []byte) ([]byte, error) {
	if name == "" {
		name = "artifact"
	}
	return json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []map[string]any{{"name": name, "digest": map[string]string{"sha256": hex.EncodeToString(digest)}}},
		"predicateType": "https://slsa.dev/provenance/v1",
		"predicate":     map[string]any{"buildDefinition": map[string]any{"buildType": "https://actions.github.io/buildtypes/workflow/v1"}},
	})
}

// Fulcio's certificate extensions (OID 1.3.6.1.4.1.57264.1.*).
func fulcioOID(n int) asn1.ObjectIdentifier {
	return asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, n}
}

// leaf issues the signing certificate, with an embedded SCT unless
// o.NoSCT.
func (in *Instance) leaf(key *ecdsa.PrivateKey, s Signer, o Options) (*x509.Certificate, error) {
	t := &x509.Certificate{
		SerialNumber: big.NewInt(o.SignedAt.UnixNano()),
		NotBefore:    o.NotBefore, NotAfter: o.NotAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
	if u, err := url.Parse(s.Identity); err == nil && u.Scheme != "" {
		t.URIs = []*url.URL{u}
	} else {
		t.EmailAddresses = []string{s.Identity}
	}
	t.ExtraExtensions = append(t.ExtraExtensions, pkix.Extension{Id: fulcioOID(1), Value: []byte(s.Issuer)})
	for n, v := range map[int]string{8: s.Issuer, 12: s.Repository, 13: s.Commit, 14: s.Ref, 18: s.Workflow, 21: s.Run} {
		if v == "" {
			continue
		}
		der, err := asn1.MarshalWithParams(v, "utf8")
		if err != nil {
			return nil, err
		}
		t.ExtraExtensions = append(t.ExtraExtensions, pkix.Extension{Id: fulcioOID(n), Value: der})
	}
	sortExtensions(t.ExtraExtensions)
	pre, err := create(t, in.interCert, &key.PublicKey, in.interKey)
	if err != nil || o.NoSCT {
		return pre, err
	}
	sct, err := in.sct(pre, o.SignedAt.Add(-30*time.Second))
	if err != nil {
		return nil, err
	}
	t.ExtraExtensions = append(t.ExtraExtensions, pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 2}, Value: sct})
	return create(t, in.interCert, &key.PublicKey, in.interKey)
}

func sortExtensions(exts []pkix.Extension) {
	for i := 1; i < len(exts); i++ {
		for j := i; j > 0 && exts[j].Id.String() < exts[j-1].Id.String(); j-- {
			exts[j], exts[j-1] = exts[j-1], exts[j]
		}
	}
}

// sct is the CT log's signed certificate timestamp over the precertificate
// (the certificate without the SCT list), as the extension's value.
func (in *Instance) sct(pre *x509.Certificate, at time.Time) ([]byte, error) {
	var id [32]byte
	copy(id[:], logID(in.ctKey.Public()))
	s := ct.SignedCertificateTimestamp{SCTVersion: ct.V1, LogID: ct.LogID{KeyID: id}, Timestamp: uint64(at.UnixMilli())}
	entry := ct.LogEntry{Leaf: ct.MerkleTreeLeaf{Version: ct.V1, LeafType: ct.TimestampedEntryLeafType,
		TimestampedEntry: &ct.TimestampedEntry{Timestamp: s.Timestamp, EntryType: ct.PrecertLogEntryType,
			PrecertEntry: &ct.PreCert{IssuerKeyHash: sha256.Sum256(in.interCert.RawSubjectPublicKeyInfo), TBSCertificate: pre.RawTBSCertificate}}}}
	input, err := ct.SerializeSCTSignatureInput(s, entry)
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(input)
	sig, err := ecdsa.SignASN1(rand.Reader, in.ctKey, h[:])
	if err != nil {
		return nil, err
	}
	s.Signature = ct.DigitallySigned{Algorithm: cttls.SignatureAndHashAlgorithm{Hash: cttls.SHA256, Signature: cttls.ECDSA}, Signature: sig}
	list, err := ctx509util.MarshalSCTsIntoSCTList([]*ct.SignedCertificateTimestamp{&s})
	if err != nil {
		return nil, err
	}
	raw, err := cttls.Marshal(*list)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(raw)
}

// logEntry is the Rekor entry of body: the signed entry timestamp and
// an inclusion proof in a one-entry tree with a signed checkpoint.
func (in *Instance) logEntry(body []byte, kind string, at time.Time, index int64) (*protorekor.TransparencyLogEntry, error) {
	id := logID(in.rekorKey.Public())
	payload, err := json.Marshal(struct {
		Body           string `json:"body"`
		IntegratedTime int64  `json:"integratedTime"`
		LogID          string `json:"logID"`
		LogIndex       int64  `json:"logIndex"`
	}{base64.StdEncoding.EncodeToString(body), at.Unix(), hex.EncodeToString(id), index})
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(payload)
	set, err := ecdsa.SignASN1(rand.Reader, in.rekorKey, h[:])
	if err != nil {
		return nil, err
	}
	leafHash := sha256.Sum256(append([]byte{0}, body...))
	signer, err := signature.LoadECDSASignerVerifier(in.rekorKey, crypto.SHA256)
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(in.LogURL())
	cp, err := rekorutil.CreateAndSignCheckpoint(context.Background(), u.Hostname(), 1, 1, leafHash[:], signer)
	if err != nil {
		return nil, err
	}
	return &protorekor.TransparencyLogEntry{
		LogIndex: index, LogId: &protocommon.LogId{KeyId: id},
		KindVersion:      &protorekor.KindVersion{Kind: kind, Version: "0.0.1"},
		IntegratedTime:   at.Unix(),
		InclusionPromise: &protorekor.InclusionPromise{SignedEntryTimestamp: set},
		InclusionProof: &protorekor.InclusionProof{LogIndex: 0, RootHash: leafHash[:], TreeSize: 1,
			Checkpoint: &protorekor.Checkpoint{Envelope: string(cp)}},
		CanonicalizedBody: body,
	}, nil
}
