// Package kernelsig verifies, offline, the signed light-skeleton loaders
// the Linux kernel checks at BPF_PROG_LOAD (signing level 2): what
// `bpftool gen skeleton -S` writes.
//
// A signed loader is a BPF_PROG_TYPE_SYSCALL program (its instructions),
// a data blob (the real programs, maps and BTF, in an exclusive map), a
// detached CMS signature and the excl_prog_hash. Two schemes exist, and
// they are not interchangeable on one kernel:
//
//   - SchemeHashChain (Linux 6.18): the signature covers the loader's
//     instructions; the loader itself compares the map's hash with
//     sha256(data), embedded as four ld_imm64 immediates. The signature
//     alone does not cover the blob: only those immediates do.
//   - SchemeLoadTime (bpf-next, July 2026): the kernel checks the
//     signature over insns || metadata (the frozen data blob); the loader
//     checks nothing.
//
// Verify runs every check the kernel will run that can be run without
// the user's kernel, each a step with its own code (Code*): the
// skeleton's arrays equal the carried files, excl_prog_hash is
// sha256(insns), the CMS profile is bpftool's (one SignerInfo identified
// by SubjectKeyIdentifier, no signed attributes, SHA-256, no embedded
// certificates), the SubjectKeyIdentifier is the certificate's, the
// signature verifies over what the scheme covers, the 6.18 hash chain is
// intact, and the certificate chains to a certificate the repository
// trusts. A verified Result says "verified offline", never "by the
// kernel": whether a host's kernel accepts the load depends on its
// keyring and on CONFIG_SYSTEM_DATA_VERIFICATION.
//
// The CMS parser is this package's own, on golang.org/x/crypto/cryptobyte:
// go.mozilla.org/pkcs7 and its forks do not parse SubjectKeyIdentifier
// signers, and github.com/github/smimesign's ietf-cms verifies only
// signatures that embed their certificates, which bpftool's never do. It
// is strict (the one profile the kernel accepts), bounded (MaxSignature)
// and fuzzed; ParseSkeleton reads the C arrays of a .lskel.h, bounded by
// MaxHeader.
package kernelsig
