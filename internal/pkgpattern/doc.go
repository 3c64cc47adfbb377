// Package pkgpattern is the one rule for what a publisher's grant names:
// a package name, or a prefix of package names followed by "*". Keyed
// grants (TUF delegations, package tufrepo) and keyless grants
// (publishers.json, package keyless) both use it.
package pkgpattern
