// Package gen generates synthetic repositories for the scale harness
// (make bench): N package versions spread over about N/10 package names,
// each a real eBPF package — a manifest, a README, real example objects
// from testdata/packages (or bpfobj/testdata/verifier/core.bpf.o) and a
// payload that makes the artifact 10–200 KB and compress about 3:1 —
// written with pkgfmt.WriteArtifact into a repository's
// packages/<name>/<version>/<artifact> layout; and the equivalent Helm
// chart tarballs (same count, same sizes) for comparing with
// `helm repo index`.
//
// Everything is deterministic: the same Options give the same bytes, on
// any number of workers.
package gen
