// Package progtest runs a package's test vectors through the kernel's
// BPF_PROG_RUN (BPF_PROG_TEST_RUN): each program is loaded, never
// attached, with fresh maps, preloaded as the vector says, run on its
// input packets or context, and its verdict, output packet and map
// contents compared with what the vector expects.
//
// The types are plain data: a [Case] is one vector resolved to bytes
// (package pkgfmt builds Cases from a manifest's [[tests]]), a [Report]
// what running them found. [ReadPackets] reads a pcap or pcapng capture,
// size-limited; [EncodeValue] turns a manifest's typed key or value into
// the bytes its BTF type lays out; [ParseVerdict] names verdicts per
// program type.
//
// [Run] runs every case in a child process with a time and memory limit,
// so that a program that loops, or a repeat count too high, is stopped
// and reported rather than hanging the caller. The child is the running
// executable itself: a program that runs test vectors calls [Serve] first
// thing in main (and in TestMain); without it, Run runs cases in process
// and says so in the report.
package progtest
