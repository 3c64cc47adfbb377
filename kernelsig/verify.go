package kernelsig

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Scheme is what a loader's signature covers and who checks the data.
type Scheme string

const (
	// SchemeHashChain (Linux 6.18): the signature covers the loader's
	// instructions, which embed sha256(data).
	SchemeHashChain Scheme = "hash-chain"
	// SchemeLoadTime (bpf-next, July 2026): the signature covers insns ||
	// data, checked by the kernel at load.
	SchemeLoadTime Scheme = "load-time"
)

// Describe names the scheme for people.
func (s Scheme) Describe() string {
	switch s {
	case SchemeHashChain:
		return "6.18 hash-chain scheme"
	case SchemeLoadTime:
		return "load-time scheme"
	}
	return string(s)
}

// ParseScheme accepts the scheme names of the package format.
func ParseScheme(s string) (Scheme, error) {
	switch Scheme(s) {
	case SchemeHashChain, SchemeLoadTime:
		return Scheme(s), nil
	}
	return "", fmt.Errorf("unknown scheme %q (want %q or %q)", s, SchemeHashChain, SchemeLoadTime)
}

// Error codes, one per verification step.
const (
	CodeParse     = "kernel.parse"      // a part that does not parse: truncated DER, instructions not 8-byte units
	CodeSkeleton  = "kernel.skeleton"   // the .lskel.h arrays differ from the carried files
	CodeExclHash  = "kernel.excl-hash"  // excl_prog_hash is not sha256(insns)
	CodeProfile   = "kernel.profile"    // not bpftool's CMS profile: signed attributes, embedded certificates, attached content, issuer+serial signer, several signers
	CodeDigest    = "kernel.digest"     // the digest is not SHA-256
	CodeSigner    = "kernel.signer"     // the SignerInfo's SubjectKeyIdentifier is not the certificate's
	CodeSignature = "kernel.signature"  // the signature does not verify over what the scheme covers
	CodeScheme    = "kernel.scheme"     // signed for the other scheme
	CodeHashChain = "kernel.hash-chain" // 6.18: sha256(data) is not what the loader's immediates say: the blob was changed
	CodeChain     = "kernel.chain"      // the certificate chains to no trusted kernel-signing certificate
)

// Error is a loader that failed a verification step.
type Error struct {
	Code string
	Err  error
}

func (e *Error) Error() string { return fmt.Sprintf("%v [%s]", e.Err, e.Code) }
func (e *Error) Unwrap() error { return e.Err }

func fail(code, format string, a ...any) *Error {
	return &Error{Code: code, Err: fmt.Errorf(format, a...)}
}

// Loader is a signed loader's parts, as a package carries them.
type Loader struct {
	Insns       []byte
	Data        []byte
	Signature   []byte // detached CMS, DER
	Certificate *x509.Certificate
	// ExclHash is the excl_prog_hash the skeleton passes to the kernel;
	// nil when the package carries no skeleton (it is then sha256(insns)
	// by construction).
	ExclHash []byte
}

// Options say what Verify trusts. The zero value trusts nothing, so
// every loader fails CodeChain.
type Options struct {
	Scheme Scheme // required
	// Trusted are the kernel-signing certificates trusted: CAs, or the
	// signing certificates themselves.
	Trusted       []*x509.Certificate
	Intermediates []*x509.Certificate
	Now           time.Time // zero: the current time
}

// Result is a verified loader.
type Result struct {
	Scheme       Scheme `json:"scheme"`
	Signer       string `json:"signer"`        // the certificate's subject
	SignerSHA256 string `json:"signer_sha256"` // its fingerprint
	ChainsTo     string `json:"chains_to"`     // the trusted certificate's subject
	InsnsSHA256  string `json:"insns_sha256"`  // excl_prog_hash
	DataSHA256   string `json:"data_sha256"`
}

// Summary is the honest one-line account: verified offline.
func (r *Result) Summary() string {
	return fmt.Sprintf("kernel signature verified offline (%s, signer %s, chains to %s)", r.Scheme.Describe(), r.Signer, r.ChainsTo)
}

// Verify checks a loader as the kernel would, offline; see the package
// documentation for the steps. The first failing step is returned as an
// *Error.
func Verify(l Loader, opts Options) (*Result, error) {
	if _, err := ParseScheme(string(opts.Scheme)); err != nil {
		return nil, fail(CodeScheme, "%v", err)
	}
	if len(l.Insns) == 0 || len(l.Insns)%8 != 0 || len(l.Insns) > MaxPart {
		return nil, fail(CodeParse, "loader instructions are %d bytes: want a non-empty multiple of 8, at most %d", len(l.Insns), MaxPart)
	}
	if len(l.Data) > MaxPart {
		return nil, fail(CodeParse, "loader data is %d bytes, over the %d-byte limit", len(l.Data), MaxPart)
	}
	if l.Certificate == nil {
		return nil, fail(CodeSigner, "no signer certificate")
	}
	insnsSum := sha256.Sum256(l.Insns)
	dataSum := sha256.Sum256(l.Data)
	if l.ExclHash != nil && !bytes.Equal(l.ExclHash, insnsSum[:]) {
		return nil, fail(CodeExclHash, "excl_prog_hash is %x, sha256 of the loader instructions is %x", l.ExclHash, insnsSum)
	}
	sig, err := ParseSignature(l.Signature)
	if err != nil {
		return nil, fail(CodeParse, "signature: %v", err)
	}
	if err := checkProfile(sig); err != nil {
		return nil, err
	}
	if !bytes.Equal(sig.SubjectKeyID, l.Certificate.SubjectKeyId) {
		return nil, fail(CodeSigner, "the signature's SubjectKeyIdentifier is %x, the certificate's (%s) is %x: signed with another key",
			sig.SubjectKeyID, l.Certificate.Subject, l.Certificate.SubjectKeyId)
	}
	if err := checkCovered(sig, l, opts.Scheme); err != nil {
		return nil, err
	}
	if opts.Scheme == SchemeHashChain {
		if err := checkHashChain(l.Insns, dataSum[:]); err != nil {
			return nil, err
		}
	}
	root, err := chain(l.Certificate, opts)
	if err != nil {
		return nil, err
	}
	fp := sha256.Sum256(l.Certificate.Raw)
	return &Result{
		Scheme: opts.Scheme, Signer: l.Certificate.Subject.String(), SignerSHA256: hex.EncodeToString(fp[:]),
		ChainsTo: root.Subject.String(), InsnsSHA256: hex.EncodeToString(insnsSum[:]), DataSHA256: hex.EncodeToString(dataSum[:]),
	}, nil
}

func checkProfile(sig *Signature) error {
	switch {
	case sig.SignedAttrs:
		return fail(CodeProfile, "the SignerInfo has signed attributes; the kernel's BPF signature check takes none (bpftool signs with CMS_NOATTR)")
	case sig.Certificates:
		return fail(CodeProfile, "certificates are embedded in the signature; bpftool signs with CMS_NOCERTS: the kernel uses its keyring")
	case sig.Attached:
		return fail(CodeProfile, "the signature carries its content; it must be detached")
	case sig.IssuerSerial:
		return fail(CodeProfile, "the signer is identified by issuer and serial number; bpftool signs with CMS_USE_KEYID (SubjectKeyIdentifier)")
	case !sig.Digest.Equal(oidSHA256):
		return fail(CodeDigest, "the digest algorithm is %s, want sha256", sig.DigestName())
	}
	return nil
}

// checkCovered verifies the signature over the scheme's content, and
// names the other scheme when it verifies over that one instead.
func checkCovered(sig *Signature, l Loader, scheme Scheme) error {
	insnsOnly := l.Insns
	withData := append(append(make([]byte, 0, len(l.Insns)+len(l.Data)), l.Insns...), l.Data...)
	want, other, otherScheme := insnsOnly, withData, SchemeLoadTime
	if scheme == SchemeLoadTime {
		want, other, otherScheme = withData, insnsOnly, SchemeHashChain
	}
	err := verifyValue(sig, l.Certificate, want)
	if err == nil {
		return nil
	}
	if verifyValue(sig, l.Certificate, other) == nil {
		return fail(CodeScheme, "the package says %s, but the signature was made for the %s", scheme.Describe(), otherScheme.Describe())
	}
	covered := "the loader instructions"
	if scheme == SchemeLoadTime {
		covered = "the loader instructions and data"
	}
	return fail(CodeSignature, "the signature does not verify over %s with %s's key: %v", covered, l.Certificate.Subject, err)
}

func verifyValue(sig *Signature, cert *x509.Certificate, content []byte) error {
	sum := sha256.Sum256(content)
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		if !sig.SignatureAlgo.Equal(oidRSA) && !sig.SignatureAlgo.Equal(oidRSASHA256) {
			return fmt.Errorf("signature algorithm %v for an RSA key", sig.SignatureAlgo)
		}
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig.Value)
	case *ecdsa.PublicKey:
		if !sig.SignatureAlgo.Equal(oidECDSA256) && !sig.SignatureAlgo.Equal(oidECPublic) {
			return fmt.Errorf("signature algorithm %v for an ECDSA key", sig.SignatureAlgo)
		}
		if !ecdsa.VerifyASN1(pub, sum[:], sig.Value) {
			return errors.New("ecdsa: verification error")
		}
		return nil
	}
	return fmt.Errorf("unsupported key type %T", cert.PublicKey)
}

// checkHashChain finds, in the 6.18 loader, the four ld_imm64 constants
// libbpf's emit_signature_match compares the data map's hash with, and
// checks that together they are sha256(data). The pattern, for each
// 64-bit word i: r1 = map[0] (ld_imm64, BPF_PSEUDO_MAP_IDX);
// r2 = *(u64 *)(r1 + 8*i); r3 = <word i> (ld_imm64).
func checkHashChain(insns, dataSum []byte) error {
	const (
		ldImm64     = 0x18 // BPF_LD | BPF_IMM | BPF_DW
		ldxDW       = 0x79 // BPF_LDX | BPF_MEM | BPF_DW
		pseudoMapIx = 5    // BPF_PSEUDO_MAP_IDX
	)
	type insn struct {
		code, dst, src byte
		off            int16
		imm            uint32
	}
	n := len(insns) / 8
	at := func(k int) insn {
		b := insns[8*k:]
		return insn{code: b[0], dst: b[1] & 0xf, src: b[1] >> 4, off: int16(binary.LittleEndian.Uint16(b[2:])), imm: binary.LittleEndian.Uint32(b[4:])}
	}
	var words [4][]byte
	for k := 0; k+5 <= n; k++ {
		a, ld, c := at(k), at(k+2), at(k+3)
		if a.code != ldImm64 || a.dst != 1 || a.src != pseudoMapIx || a.imm != 0 ||
			ld.code != ldxDW || ld.dst != 2 || ld.src != 1 || ld.off%8 != 0 || ld.off < 0 || ld.off >= 32 ||
			c.code != ldImm64 || c.dst != 3 || c.src != 0 {
			continue
		}
		i := ld.off / 8
		if words[i] != nil {
			return fail(CodeHashChain, "the loader compares word %d of the data hash twice", i)
		}
		w := make([]byte, 8)
		binary.LittleEndian.PutUint32(w, c.imm)
		binary.LittleEndian.PutUint32(w[4:], at(k+4).imm)
		words[i] = w
	}
	var embedded []byte
	for i, w := range words {
		if w == nil {
			return fail(CodeHashChain, "the loader does not compare word %d of the data map's hash: not a 6.18 signed loader (load-time scheme, or made without -S)", i)
		}
		embedded = append(embedded, w...)
	}
	if !bytes.Equal(embedded, dataSum) {
		return fail(CodeHashChain, "the loader expects data with sha256 %x, the carried data has %x: the data blob was changed after signing", embedded, dataSum)
	}
	return nil
}

// chain finds the trusted certificate the signer chains to.
func chain(cert *x509.Certificate, opts Options) (*x509.Certificate, error) {
	if len(opts.Trusted) == 0 {
		return nil, fail(CodeChain, "%s: no trusted kernel-signing certificates configured ([kernel] trusted_certs in ebpfrepo.toml, or --kernel-cert)", cert.Subject)
	}
	for _, t := range opts.Trusted {
		if bytes.Equal(t.Raw, cert.Raw) {
			return t, nil
		}
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	for _, t := range opts.Trusted {
		roots.AddCert(t)
	}
	for _, c := range opts.Intermediates {
		inter.AddCert(c)
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	chains, err := cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return nil, fail(CodeChain, "%s (issued by %s) chains to no trusted kernel-signing certificate: %v", cert.Subject, cert.Issuer, err)
	}
	c := chains[0]
	return c[len(c)-1], nil
}

func sum256(b []byte) [32]byte { return sha256.Sum256(b) }
