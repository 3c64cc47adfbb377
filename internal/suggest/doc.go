// Package suggest is the one "did you mean" of ebpfrepo: lint suggests
// manifest keys and program types with it, the client package names and
// platforms.
package suggest
