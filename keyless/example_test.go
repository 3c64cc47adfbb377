package keyless_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/ebpfrepo/ebpfrepo/internal/sigstoretest"
	"github.com/ebpfrepo/ebpfrepo/keyless"
)

// A grant names the CI identities that may sign a package; Verify checks
// a bundle against it and the pinned trusted root, offline.
func ExampleVerify() {
	// A private Sigstore instance stands in for the public-good one.
	in, _ := sigstoretest.New("example", time.Now().Add(-time.Hour))
	rootJSON, _ := in.TrustedRoot()
	trust, _ := keyless.ParseTrustRoot(rootJSON)

	grant := keyless.Publisher{Name: "acme-ci", Packages: []string{"xdp-*"}, Identities: []keyless.Identity{{
		SANRegexp: `https://github\.com/acme/xdp/\.github/workflows/release\.yml@refs/tags/v.*`,
		Issuer:    "https://token.actions.githubusercontent.com",
	}}}
	artifact := []byte("the artifact's bytes")
	sum := sha256.Sum256(artifact)

	release := sigstoretest.GitHubWorkflow("acme/xdp", ".github/workflows/release.yml", "refs/tags/v1.0.0", "")
	bundle, _ := in.Bundle(artifact, release, sigstoretest.Options{DSSE: true})
	ev, err := keyless.Verify(bundle, hex.EncodeToString(sum[:]), trust, grant, "xdp-filter@1.0.0")
	fmt.Println(ev.Identity, ev.Kind, err)

	// The same workflow run from a branch is not a granted identity.
	branch := sigstoretest.GitHubWorkflow("acme/xdp", ".github/workflows/release.yml", "refs/heads/main", "")
	bundle, _ = in.Bundle(artifact, branch, sigstoretest.Options{})
	_, err = keyless.Verify(bundle, hex.EncodeToString(sum[:]), trust, grant, "xdp-filter@1.0.0")
	var ve *keyless.VerifyError
	if errors.As(err, &ve) {
		fmt.Println(ve.Check, "check failed:", ve.Found)
	}
	// Output:
	// https://github.com/acme/xdp/.github/workflows/release.yml@refs/tags/v1.0.0 dsse <nil>
	// identity check failed: https://github.com/acme/xdp/.github/workflows/release.yml@refs/heads/main
}
