// Package keyless is the keyless publisher level: authors who release
// from CI sign with their workflow's OIDC identity (a Sigstore bundle:
// Fulcio certificate, certificate transparency, Rekor log entry) instead
// of a long-lived key.
//
// Two files pin what a bundle must prove, and both are targets of the
// offline top-level targets role, so the repository's CI cannot change
// them: Publishers (publishers.json: which identities may sign which
// packages) and the Sigstore trusted root (trusted_root.json: which
// Fulcio, CT log and Rekor keys are trusted). Nothing here fetches
// anything: Verify checks a bundle fully offline against those two, with
// github.com/sigstore/sigstore-go.
//
// The package is I/O-free; the repository (package repo) and the client
// (package client) read the files and the bundles.
package keyless
