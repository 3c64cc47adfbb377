// Package authenticode verifies the Authenticode signatures of Windows
// native eBPF drivers (.sys, as eBPF for Windows' bpf2c and MSVC make
// them) offline, and classifies them for HVCI:
//
//   - production-ebpf: a signature chains to Microsoft Root Certificate
//     Authority 2011 (pinned by its SHA-1 thumbprint), its signer's subject
//     is "Microsoft Corporation eBPF Verification" and it carries both
//     EKUs eBPF for Windows requires (code signing, 1.3.6.1.5.5.7.3.3, and
//     1.3.6.1.4.1.311.133.1): what a production eBPF for Windows loads;
//   - test-signed: a signature chains to a test root the repository pins:
//     loads only on a machine with test-signing enabled, never under HVCI;
//   - unsigned.
//
// Every signature, the primary and each nested one, is checked in turn,
// each step with its own error code: the file's authentihash equals the
// signature's digest (PKCS#7 alone does not bind the file); the PKCS#7
// signature verifies; an RFC 3161 timestamp, if present, verifies and
// chains to a pinned time-stamping root; the signer chains to a pinned
// root; the certificates are valid at the time the timestamp attests,
// else now (the signer's own signingTime attribute is only a claim). A file with any signature that
// fails one of these is refused, even when another verifies (osslsigncode
// accepts a file when any one signature does): a bad signature in a
// driver is tampering or a mistake, never something to ship. A
// signature that verifies but chains to no pinned root is reported, and
// does not count. The file's class is the best class among its
// signatures.
//
// The PE and PKCS#7 parsing is github.com/saferwall/pe's (with its
// signature and chain checks turned off: this package makes them against
// its own pinned roots); Verify bounds the input and recovers from a
// panic in it.
package authenticode
