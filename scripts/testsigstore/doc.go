// Command testsigstore plays a private Sigstore instance for the demo and
// for trying keyless publishing without a network: it makes the
// instance's trusted_root.json and signs artifacts as a CI workflow
// would, writing Sigstore bundles (v0.3). Its CA is TEST-ONLY: a bundle
// it makes verifies only against its own trusted root.
//
//	testsigstore init DIR                       make an instance in DIR (state.json, trusted_root.json)
//	testsigstore sign DIR REPO WORKFLOW REF ARTIFACT [--dsse]
//	                                            write ARTIFACT.sigstore.json, signed as
//	                                            https://github.com/REPO/WORKFLOW@REF
package main
