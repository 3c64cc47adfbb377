// Package tufrepo keeps the TUF metadata of an ebpfrepo repository with
// go-tuf/v2's metadata API: keys, the roles root, targets, the succinct
// hashed bins, snapshot and timestamp, their versions and expiry dates,
// and signing. It never writes TUF JSON by hand.
//
// The published layout is what go-tuf's updater reads with consistent
// snapshots: metadata/N.root.json for every root version,
// metadata/N.targets.json, metadata/N.bins-XX.json, metadata/N.snapshot.json
// and metadata/timestamp.json; targets are published by the caller under
// layout.Target (hash-prefixed names). Targets delegates everything to 2^bits succinct
// hashed bins (TAP 15) named "bins-…" by go-tuf's SuccinctRoles, all
// signed by the bins key. Snapshot and timestamp list versions only (no
// lengths or hashes) to stay small.
//
// A Repo is created by Init, read back by Load from the directory Save
// wrote, and changed by Update (the complete target list of a build),
// Timestamp, RotateKey, ReplaceKeys and RenewRoot. Each re-signs only what
// changed, with version+1 and an expiry date of now plus the role's
// period, in whole seconds UTC; Update with no change re-signs nothing,
// so a rebuild with no change publishes identical bytes. Metadata is
// serialised once when signed, as compact JSON with sorted keys.
//
// Cost is proportional to what changes: a Repo keeps each bin as its
// signed bytes and a summary (version, expiry, a digest of its sorted
// path, length and sha256 entries), not as parsed metadata. Update groups
// the target list by bin and builds, signs and serialises only the bins
// whose digest differs or that expire; the others keep their bytes. Load
// verifies every bin (in parallel) with go-tuf's own parse and
// VerifyDelegate against the delegation's keys, takes the summary and
// drops the parsed form; bytes that fail are refused.
//
// Private keys are ed25519, stored as PKCS#8 PEM files (mode 0600) or
// passed in environment variables; see Keyring and docs/keys.md.
package tufrepo
