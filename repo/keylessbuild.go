package repo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/keyless"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
	"github.com/ebpfrepo/ebpfrepo/tufrepo"
)

// testHookKeylessGrant, when set, replaces the grant the build checks
// bundles against: tests play a compromised CI that ignores
// publishers.json.
var testHookKeylessGrant func(keyless.Publisher) keyless.Publisher

// keylessCheck verifies, offline, the Sigstore bundle of every version a
// keyless publisher holds, as add did: the grant or the trusted root may
// have changed since, and packages/ is a directory anyone with commit
// access can write. A version without a bundle that verifies is invalid
// (the build fails, or leaves it out with SkipInvalid).
func (b *buildRun) keylessCheck(context.Context) error {
	st, err := b.r.loadKeyless(b.tr)
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}
	b.keyless = st
	for _, it := range b.items {
		if it.problem != nil || it.sha == "" {
			continue
		}
		g, ok := st.pubs.ClaimOf(it.name)
		if !ok {
			continue
		}
		if testHookKeylessGrant != nil {
			g = testHookKeylessGrant(g)
		}
		rel := filepath.Join(layout.PackagesDir, filepath.FromSlash(it.rel))
		prob := func(code, file, msg string) {
			it.problem = &pkgfmt.Problem{Severity: pkgfmt.SeverityError, Package: it.label(), File: file, Code: code, Message: msg}
		}
		if it.bundle == "" {
			prob("repo.keyless-unsigned", rel, fmt.Sprintf("keyless publisher %s holds package %s and the version has no Sigstore bundle: ebpfrepo add --bundle FILE %s", g.Name, it.name, rel))
			continue
		}
		data, err := readCapped(it.bundle, keyless.MaxBundleSize)
		if err == nil {
			it.keyless, err = keyless.Verify(data, it.sha, st.trust, g, it.label()+"/"+it.artifact())
		}
		if err != nil {
			prob("repo.keyless-bundle", rel+layout.BundleSuffix, err.Error())
			continue
		}
		sum := sha256.Sum256(data)
		it.bundleSHA, it.bundleLen = hex.EncodeToString(sum[:]), int64(len(data))
	}
	return nil
}

// keylessSignatures is the record of a keyless publisher's version: the
// package level is its publisher's, proved by the bundle.
func keylessSignatures(sig *index.Signatures, ev *index.KeylessSignature) *index.Signatures {
	c := *sig
	c.Package = index.PackageSignature{Signer: index.SignerPublisher, Publisher: ev.Publisher, Role: tufrepo.RoleUnclaimed, Keyless: ev}
	return &c
}

// writeKeyless publishes the keyless files at their consistent names.
// They are targets of the top-level targets role, not of the bins, so
// they are not among the targets the build signs.
func (b *buildRun) writeKeyless() error {
	for _, f := range b.keyless.files {
		if _, err := b.w.Write(layout.Target(f.target.Path, f.target.SHA256), f.data); err != nil {
			return err
		}
	}
	return nil
}
