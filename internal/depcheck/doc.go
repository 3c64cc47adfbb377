// Package depcheck holds the test that guards the import graph of the
// module (as go-containerregistry's depcheck_test.go does): the allowed
// edges between the module's packages are written down once, in
// depcheck_test.go, and the test fails on any other. The graph and the one
// concept of each package are described in docs/architecture.md.
package depcheck
