// Package publish uploads a built repository (the output directory of
// ebpfrepo build) to a static host through a small Store interface, in
// the order that keeps every moment consistent for a TUF client: the
// targets first, then the l3afd tree, then the delegated metadata and
// the snapshot, then the catalogue, and timestamp.json last. It uploads
// only what changed (by sha256, recorded in a state object beside the
// tree), sends each path's Cache-Control and Content-Type from the
// layout package, and deletes what left the tree only after a grace
// period, so a client or CDN still holding an older timestamp.json finds
// every file it names. A publish killed half-way leaves the previous
// timestamp.json in place, naming files that are all still there.
//
// Media live in their own packages (publish/s3store for S3 and
// S3-compatible stores).
package publish
