// Package kerneltest holds the test helpers that decide whether a test
// can use the running kernel (root, BPF, BTF) and skip it with the reason
// otherwise. It imports nothing of the module, so any package's tests may
// use it.
package kerneltest
