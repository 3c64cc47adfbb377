// Package floor measures the physical floor of a repository build: every
// artifact read once, hashed with sha256 and fully decompressed and
// untarred in the same pass, one worker per core. No build that reads
// every artifact can be faster; the harness reports build time as a
// ratio to it.
package floor
