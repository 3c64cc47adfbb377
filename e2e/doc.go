// Package e2e holds end-to-end tests over the real repository build:
// repo.Init, Add of the example packages under testdata/packages, Build,
// the output served from an httptest server on 127.0.0.1 under a
// sub-path (and as a file:// tree), and the verifying client, its CLI
// commands and the l3afd proxy reading it — including attacks on the
// built output (tampered bytes, an expired timestamp, a rollback to an
// older build), yanks, and a timestamp re-signed on a warm client.
//
// Build and Serve are exported for other packages' tests (cmd/ebpfrepo
// drives its CLI against the same build); the package is for tests only.
package e2e
