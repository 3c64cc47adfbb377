// Linux kernel signatures: the signed light-skeleton loader of a package,
// verified offline (kernelsig) before it reaches a host.

package pkgfmt

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/ebpfrepo/ebpfrepo/kernelsig"
)

// Problem codes of the [kernel_signature] section, beyond the kernelsig
// step codes ("kernel.signature", "kernel.hash-chain", …) a loader that
// fails verification gets.
const (
	CodeKernelSigFile       = "kernel.file"        // a file the section names is missing or not a regular file
	CodeKernelSigIncomplete = "kernel.incomplete"  // neither a skeleton nor loader, data and signature
	CodeKernelSigUnsigned   = "kernel.unsigned"    // the skeleton was generated without -S
	CodeKernelSigCert       = "kernel.certificate" // the certificate does not parse
	CodeKernelSigTool       = "kernel.tool"        // a signing tool with known holes
	CodeKernelSigPinned     = "kernel.pinned-maps" // the object pins maps by name: no signed light skeleton can be made of it
)

// kernelSignature verifies the package's signed loader, when it carries
// one, and records what was verified.
func (dc *describer) kernelSignature(ctx context.Context) {
	if dc.m == nil || dc.m.KernelSignature == nil {
		return
	}
	ks := dc.m.KernelSignature
	const sect = "kernel_signature"
	errAt := func(code, field, format string, a ...any) {
		dc.add(SeverityError, code, ManifestFile, sect+"."+field, "", format, a...)
	}
	scheme, err := kernelsig.ParseScheme(ks.Scheme)
	if err != nil {
		errAt(kernelsig.CodeScheme, "scheme", "%v: say which scheme the loader was signed for; the two are not interchangeable on one kernel", err)
		return
	}
	if w := kernelsig.ToolWarning(ks.Tool); w != "" {
		dc.add(SeverityWarning, CodeKernelSigTool, ManifestFile, sect+".tool", "", "%s", w)
	}
	dc.pinnedMaps(ks)
	file := func(field, path string) []byte {
		if path == "" {
			return nil
		}
		if err := checkRelPath(path); err != nil {
			errAt(CodeKernelSigFile, field, "%v", err)
			return nil
		}
		f, ok := dc.c.File(path)
		if !ok {
			errAt(CodeKernelSigFile, field, "%q is not in the package", path)
			return nil
		}
		return f.Data
	}
	var l kernelsig.Loader
	l.Insns, l.Data, l.Signature = file("loader", ks.Loader), file("data", ks.Data), file("signature", ks.Signature)
	if ks.Skeleton != "" {
		h := file("skeleton", ks.Skeleton)
		if h == nil {
			return
		}
		sk, err := kernelsig.ParseSkeleton(h)
		if err != nil {
			dc.add(SeverityError, kernelsig.CodeParse, ks.Skeleton, "", "", "%v", err)
			return
		}
		if !sk.Signed() {
			dc.add(SeverityError, CodeKernelSigUnsigned, ks.Skeleton, "", "", "a light skeleton without a signature: generate it with bpftool gen skeleton -S -k KEY -i CERT")
			return
		}
		for _, p := range []struct {
			field, path string
			carried     *[]byte
			skel        []byte
		}{{"loader", ks.Loader, &l.Insns, sk.Insns}, {"data", ks.Data, &l.Data, sk.Data}, {"signature", ks.Signature, &l.Signature, sk.Signature}} {
			if *p.carried != nil && !bytes.Equal(*p.carried, p.skel) {
				dc.add(SeverityError, kernelsig.CodeSkeleton, p.path, "", "", "differs from what %s carries: regenerate both from one bpftool run (or give only the skeleton)", ks.Skeleton)
				return
			}
			*p.carried = p.skel
		}
		l.ExclHash = sk.ExclHash
	}
	if l.Insns == nil || l.Data == nil || l.Signature == nil {
		if ks.Skeleton == "" && (ks.Loader == "" || ks.Data == "" || ks.Signature == "") {
			errAt(CodeKernelSigIncomplete, "skeleton", "give the .lskel.h bpftool gen skeleton -S wrote, or loader, data and signature")
		}
		return
	}
	if ks.Certificate == "" {
		errAt(CodeKernelSigCert, "certificate", "the signer's certificate is required (the -i CERT given to bpftool)")
		return
	}
	certData := file("certificate", ks.Certificate)
	if certData == nil {
		return
	}
	cert, err := parseCert(certData)
	if err != nil {
		dc.add(SeverityError, CodeKernelSigCert, ks.Certificate, "", "", "%v", err)
		return
	}
	l.Certificate = cert
	dc.verifyLoader(ctx, l, scheme, ks)
}

func (dc *describer) verifyLoader(ctx context.Context, l kernelsig.Loader, scheme kernelsig.Scheme, ks *KernelSignature) {
	opts := kernelsig.Options{Scheme: scheme, Trusted: dc.opts.Kernel, Now: dc.opts.KernelNow}
	untrusted := len(opts.Trusted) == 0 && !dc.opts.KernelRequireTrust
	if untrusted {
		opts.Trusted = []*x509.Certificate{l.Certificate} // every other step runs
	}
	res, err := kernelsig.Verify(l, opts)
	if err != nil {
		code, msg := kernelsig.CodeParse, err
		var ke *kernelsig.Error
		if errors.As(err, &ke) {
			code, msg = ke.Code, ke.Err
		}
		// The file at fault: the part the step read, else the skeleton
		// the parts came from.
		file := map[string]string{kernelsig.CodeHashChain: ks.Data, kernelsig.CodeExclHash: ks.Loader, kernelsig.CodeSignature: ks.Loader,
			kernelsig.CodeSigner: ks.Certificate, kernelsig.CodeChain: ks.Certificate}[code]
		if file == "" && code != kernelsig.CodeSigner && code != kernelsig.CodeChain {
			file = ks.Signature
		}
		if file == "" {
			file = ks.Skeleton
		}
		dc.add(SeverityError, code, file, "", "", "%v", msg)
		dc.d.KernelSignature = &KernelSignatureReport{Status: KernelInvalid, Summary: "kernel signature invalid: " + err.Error()}
		return
	}
	rep := &KernelSignatureReport{Status: KernelVerifiedOffline, Summary: res.Summary(), Result: res}
	if untrusted {
		res.ChainsTo = ""
		rep.Status = KernelUntrusted
		rep.Summary = fmt.Sprintf("kernel signature valid offline (%s, signer %s); its certificate was not checked against trusted certificates", scheme.Describe(), res.Signer)
		dc.add(SeverityWarning, kernelsig.CodeChain, ks.Certificate, "", "", "no trusted kernel-signing certificates given (--kernel-cert, or [kernel] trusted_certs in ebpfrepo.toml): every check but the certificate chain ran")
	}
	if dc.opts.Verify && !dc.windowsOnly() {
		lr := kernelsig.Load(ctx, l)
		rep.Load = &lr
	}
	dc.d.KernelSignature = rep
}

// pinnedMaps refuses a kernel signature on an object that pins maps by
// name: bpftool gen skeleton -S fails on it ("failed to auto-pin").
func (dc *describer) pinnedMaps(ks *KernelSignature) {
	if ks.Object == "" {
		return
	}
	for _, o := range dc.d.Objects {
		if o.Path != ks.Object {
			continue
		}
		for _, m := range o.Maps {
			if m.Pinning == "by_name" {
				dc.add(SeverityError, CodeKernelSigPinned, ManifestFile, "kernel_signature.object", "",
					"map %q of %s is pinned by name (LIBBPF_PIN_BY_NAME): a signed light skeleton cannot pin (bpftool gen skeleton -S fails with \"failed to auto-pin\"); drop the pinning attribute and pin from the user-space loader after loading (see docs/kernel-signing.md)",
					m.Name, o.Path)
			}
		}
		return
	}
	dc.add(SeverityError, CodeKernelSigFile, ManifestFile, "kernel_signature.object", "", "%q is not an object of the package", ks.Object)
}

// parseCert reads one X.509 certificate, PEM or DER.
func parseCert(b []byte) (*x509.Certificate, error) {
	if b == nil {
		return nil, errors.New("no certificate")
	}
	if blk, _ := pem.Decode(b); blk != nil {
		if blk.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %q, want CERTIFICATE", blk.Type)
		}
		b = blk.Bytes
	}
	return x509.ParseCertificate(b)
}
