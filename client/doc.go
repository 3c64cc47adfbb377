// Package client resolves and fetches eBPF packages from a static ebpfrepo
// repository, verifying every byte through TUF (go-tuf/v2's updater).
//
// A Client is created from the repository URL (http, https or file) and a
// root.json the caller pinned out of band. Every call that touches the
// network takes a context. Metadata (root, timestamp, snapshot, targets and
// hashed bins) is refreshed and verified by go-tuf; index files and
// artifacts are TUF targets and are downloaded through the same updater, so
// their length and sha256 are checked against signed metadata before a
// byte of them is used. Any mismatch — hash, length, signature, expiry,
// rollback — is an error, and nothing unverified is written to a
// destination directory.
//
// # Cache layout
//
// Options.CacheDir holds:
//
//	CACHE/root.sha256         sha256 of the pinned root the cache was built from
//	CACHE/metadata/root.json  newest trusted root (go-tuf's non-versioned names)
//	CACHE/metadata/timestamp.json, snapshot.json, targets.json, <bin>.json
//	CACHE/targets/<escaped target path>   verified index files and artifacts
//
// The metadata cache is bound to the pinned root: when Options.TrustedRoot
// changes, the cached metadata is discarded and the chain of trust restarts
// from the new pinned root. All cache writes are atomic (temporary file and
// rename).
//
// # l3afd
//
// l3afd downloads {repo}/{name}/{version}/{platform}/{artifact} and checks
// nothing. Mirror writes only verified artifacts into exactly that layout
// (plus a "latest" directory), so l3afd pointed at file://DIR loads
// verified programs; NewProxy serves the same layout over HTTP, resolving
// and verifying each request through the client.
package client
