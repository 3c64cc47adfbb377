//go:build !unix

package outtree

// treeID identifies a directory across renames; not available here, so
// every build starts from an empty tree.
func treeID(dir string) (string, bool) { return "", false }
