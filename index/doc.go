// Package index is the repository index: the per-package files
// (targets/index/<name>.json: every version with its artifacts per
// platform and its validated description) and the summary of all
// packages (targets/index/all.json), their deterministic JSON encoding
// (schema 1, docs/index-format.md), and version resolution with semantic
// version constraints (Resolve). It does no I/O; the repository build
// writes the files and the client reads them through TUF.
package index
