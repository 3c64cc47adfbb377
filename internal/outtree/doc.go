// Package outtree manages the output tree of a repository build on disk:
// the temporary directory a build writes into (Prepare), the spare tree
// kept beside the output so that the next build changes only what differs
// (Peek, Adopt), the Writer that keeps, writes, hard-links and removes
// files against the previous tree's manifest, and the swap that puts the
// new tree in place (Swap). What to write is the caller's business; where
// it goes on disk, and that a failed build never touches the live output,
// is this package's.
package outtree
