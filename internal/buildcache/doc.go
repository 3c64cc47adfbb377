// Package buildcache holds what a repository build remembers between
// runs, under REPO/.cache and beside the output: the descriptions of
// artifacts by content digest (Descriptions), the digests of artifact
// files by size and modification time (Stats), what each package's index
// file and summary were (Packages), and the manifest of an output tree
// (TreeManifest). Everything here is only a cache: deleting it costs
// time, never correctness, and a damaged or torn entry reads as a miss.
// Large files are streamed in and out (jsonstream.go) rather than held
// whole.
package buildcache
