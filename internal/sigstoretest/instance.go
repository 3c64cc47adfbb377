package sigstoretest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
)

// Instance is a private Sigstore: its CA, CT log and Rekor log keys.
type Instance struct {
	Name      string    // in the certificates' subjects and the log's URL
	Start     time.Time // everything is valid from Start for ten years
	rootCert  *x509.Certificate
	rootKey   *ecdsa.PrivateKey
	interCert *x509.Certificate
	interKey  *ecdsa.PrivateKey
	ctKey     *ecdsa.PrivateKey
	rekorKey  *ecdsa.PrivateKey
}

const lifetime = 10 * 365 * 24 * time.Hour

// New makes an instance whose CA and logs are valid from start.
func New(name string, start time.Time) (*Instance, error) {
	in := &Instance{Name: name, Start: start.UTC().Truncate(time.Second)}
	var err error
	for _, k := range []**ecdsa.PrivateKey{&in.rootKey, &in.interKey, &in.ctKey, &in.rekorKey} {
		if *k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return nil, err
		}
	}
	if err := in.makeCA(); err != nil {
		return nil, err
	}
	return in, nil
}

func (in *Instance) makeCA() error {
	rootT := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: in.Name + " root", Organization: []string{in.Name}},
		NotBefore: in.Start, NotAfter: in.Start.Add(lifetime),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true,
	}
	var err error
	if in.rootCert, err = create(rootT, rootT, &in.rootKey.PublicKey, in.rootKey); err != nil {
		return err
	}
	interT := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: in.Name + " intermediate", Organization: []string{in.Name}},
		NotBefore: in.Start, NotAfter: in.Start.Add(lifetime),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		BasicConstraintsValid: true, IsCA: true,
	}
	in.interCert, err = create(interT, in.rootCert, &in.interKey.PublicKey, in.rootKey)
	return err
}

func create(t, parent *x509.Certificate, pub any, priv crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, t, parent, pub, priv)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// LogURL is the Rekor log's base URL in the trusted root.
func (in *Instance) LogURL() string { return "https://rekor." + in.Name + ".localhost" }

func logID(pub crypto.PublicKey) []byte {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	s := sha256.Sum256(der)
	return s[:]
}

// TrustedRoot is the trusted_root.json that pins the instance, with
// stable bytes for the same instance.
func (in *Instance) TrustedRoot() ([]byte, error) {
	end := in.Start.Add(lifetime)
	ca := &root.FulcioCertificateAuthority{Root: in.rootCert, Intermediates: []*x509.Certificate{in.interCert},
		ValidityPeriodStart: in.Start, ValidityPeriodEnd: end, URI: "https://fulcio." + in.Name + ".localhost"}
	tlog := func(k *ecdsa.PrivateKey, url string) map[string]*root.TransparencyLog {
		id := logID(k.Public())
		return map[string]*root.TransparencyLog{fmt.Sprintf("%x", id): {BaseURL: url, ID: id, ValidityPeriodStart: in.Start,
			ValidityPeriodEnd: end, HashFunc: crypto.SHA256, PublicKey: k.Public(), SignatureHashFunc: crypto.SHA256}}
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, []root.CertificateAuthority{ca},
		tlog(in.ctKey, "https://ctlog."+in.Name+".localhost"), nil, tlog(in.rekorKey, in.LogURL()))
	if err != nil {
		return nil, err
	}
	data, err := tr.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return stable(data)
}

// stable re-indents protojson's output, whose spacing varies on purpose.
func stable(data []byte) ([]byte, error) {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(v, "", "  ")
	return append(out, '\n'), err
}

// state is what Marshal saves: the keys and the CA certificates.
type state struct {
	Name  string    `json:"name"`
	Start time.Time `json:"start"`
	PEM   string    `json:"pem"`
}

// Marshal saves the instance (private keys included: a test instance).
func (in *Instance) Marshal() ([]byte, error) {
	var buf []byte
	for _, k := range []*ecdsa.PrivateKey{in.rootKey, in.interKey, in.ctKey, in.rekorKey} {
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return nil, err
		}
		buf = append(buf, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})...)
	}
	for _, c := range []*x509.Certificate{in.rootCert, in.interCert} {
		buf = append(buf, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return json.MarshalIndent(state{Name: in.Name, Start: in.Start, PEM: string(buf)}, "", "  ")
}

// Load reads what Marshal saved.
func Load(data []byte) (*Instance, error) {
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, err
	}
	in := &Instance{Name: st.Name, Start: st.Start}
	rest := []byte(st.PEM)
	var keys []*ecdsa.PrivateKey
	var certs []*x509.Certificate
	for {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		switch b.Type {
		case "EC PRIVATE KEY":
			k, err := x509.ParseECPrivateKey(b.Bytes)
			if err != nil {
				return nil, err
			}
			keys = append(keys, k)
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, err
			}
			certs = append(certs, c)
		}
	}
	if len(keys) != 4 || len(certs) != 2 {
		return nil, errors.New("sigstoretest: not a saved instance")
	}
	in.rootKey, in.interKey, in.ctKey, in.rekorKey = keys[0], keys[1], keys[2], keys[3]
	in.rootCert, in.interCert = certs[0], certs[1]
	return in, nil
}

// WithOtherCA is a copy of the instance with the same CT and Rekor logs
// but another certificate authority: what it signs is logged by trusted
// logs, and its certificates chain to nothing the original trusts.
func (in *Instance) WithOtherCA() (*Instance, error) {
	c := *in
	c.Name = in.Name + "-other"
	var err error
	for _, k := range []**ecdsa.PrivateKey{&c.rootKey, &c.interKey} {
		if *k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return nil, err
		}
	}
	return &c, c.makeCA()
}
