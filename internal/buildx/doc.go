// Package buildx holds the two small mechanisms the repository build and
// the catalogue share: running independent work on every CPU (Parallel)
// and naming the running program's code (ProgramHash), which keys the
// caches that must not outlive the code that filled them.
package buildx
