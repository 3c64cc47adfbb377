// Package sigstoretest is a private Sigstore instance that runs in
// memory, for tests and the demo: a Fulcio-like CA that issues
// short-lived certificates with the GitHub Actions extensions and an
// embedded SCT, a CT log key, and a Rekor-like log that signs entries
// (SET, inclusion proof, checkpoint). It writes the trusted_root.json
// that pins it and Sigstore bundles (v0.3) over artifacts: message
// signatures as cosign sign-blob --bundle makes, and DSSE in-toto
// attestations as GitHub's attest-build-provenance makes. Options make
// the bundles that fail each check of package keyless.
//
// It never touches the network, and it is not a Sigstore: a bundle it
// makes verifies only against its own trusted root.
package sigstoretest
