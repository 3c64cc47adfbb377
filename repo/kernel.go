package repo

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"path/filepath"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/internal/pemcert"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

// Kernel is the [kernel] table of ebpfrepo.toml: what signed
// light-skeleton loaders (bpftool gen skeleton -S) must chain to.
type Kernel struct {
	// TrustedCerts are PEM certificate files (relative to REPO_DIR or
	// absolute): the CAs, or the signing certificates themselves, whose
	// loaders the repository accepts. A package carrying a kernel
	// signature is refused (kernel.chain) when none is configured.
	TrustedCerts []string `toml:"trusted_certs,omitempty"`
}

// lintTrust is what packages' signatures are verified against, as lint
// options, and a digest of it that salts the description cache (a
// description made under other trust must not be reused).
func (r *Repo) lintTrust() (pkgfmt.LintOptions, string, error) {
	win, salt, err := r.windowsTrust()
	if err != nil {
		return pkgfmt.LintOptions{}, "", err
	}
	certs, err := readCerts(r.Dir, "kernel.trusted_certs", r.Config.Kernel.TrustedCerts)
	if err != nil {
		return pkgfmt.LintOptions{}, "", err
	}
	if len(certs) > 0 {
		h := sha256.New()
		for _, c := range certs {
			h.Write(c.Raw)
		}
		salt += "k" + hex.EncodeToString(h.Sum(nil))[:16]
	}
	if r.Config.RequireTests {
		salt += "t" // a package reused from before require_tests is checked again
	}
	return pkgfmt.LintOptions{Windows: win, Kernel: certs, KernelRequireTrust: true}, salt, nil
}

// readCerts reads every PEM certificate of the files named by key.
func readCerts(dir, key string, files []string) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for _, rel := range files {
		p := rel
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		cs, err := pemcert.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", layout.ConfigFile, key, err)
		}
		out = append(out, cs...)
	}
	return out, nil
}

// kernelLevel is a version's kernel signing level for the index.
func kernelLevel(d *pkgfmt.Description) index.LevelSignature {
	ks := d.KernelSignature
	if ks == nil {
		return index.LevelSignature{Status: index.StatusAbsent}
	}
	l := index.LevelSignature{Status: ks.Status, Summary: ks.Summary}
	if ks.Result != nil {
		l.Scheme, l.Signer, l.ChainsTo = string(ks.Scheme), ks.Signer, ks.ChainsTo
	}
	return l
}
