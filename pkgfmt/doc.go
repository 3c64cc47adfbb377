// Package pkgfmt is the eBPF package format: the manifest
// (ebpf-package.toml), the deterministic artifact writer, the safe
// readers of artifacts and source directories, and validation: [Describe]
// checks a package's contents against its manifest, using package bpfobj
// to analyse the eBPF objects it holds, and reports every [Problem].
//
// A package is a directory with a manifest, a README and one or more
// eBPF ELF objects. [Pack] turns such a directory into an artifact: a
// deterministic .tar.gz (or .zip for Windows) whose single top-level
// directory is the artifact's stem, which is exactly what l3afd
// extracts. [OpenArtifact], [ReadArtifact] and [OpenDir] read artifacts
// and source directories without trusting them: paths that escape the
// root, links, device files, duplicate entries and oversized contents
// are rejected with an [*EntryError] naming the entry. [ParseManifest]
// checks every manifest rule and returns all problems at once.
//
// The format is documented in docs/package-format.md.
package pkgfmt
