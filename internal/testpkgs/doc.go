// Package testpkgs gives tests in other packages the example package
// corpus under the top-level testdata directory: the good packages
// (testdata/packages), the bad ones with the problem codes lint must
// report for each (testdata/bad and testdata/warn), and the hostile but
// valid package whose README tries to inject script into the catalogue
// (testdata/hostile/readme-xss).
//
// The corpus is described in testdata/README.md and rebuilt with
// `make testdata`. This package is for tests only.
package testpkgs
