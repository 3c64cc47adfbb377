// Package repo is a maintainer's ebpfrepo repository on disk: Init
// creates it (ebpfrepo.toml, keys/, packages/, metadata/1.root.json),
// Add validates packages and copies them into packages/, Build writes
// the static, TUF-signed repository (index files, artifacts, l3afd tree,
// catalogue) into an output directory that is swapped in atomically,
// Timestamp re-signs timestamp.json, Yank withdraws a version and
// RotateKey replaces a role's key.
//
// Every operation that changes the repository holds an exclusive lock on
// REPO_DIR/.lock; a second one fails with ErrLocked. Libraries never
// print: progress goes through BuildOptions.Progress and results come
// back as values.
package repo
