// Package site renders a repository's static HTML catalogue: a home page
// listing every package with search as you type and filters, a page per
// package and version (README, programs, maps, helpers, kernel and
// verifier results, versions, install snippets, the l3afd program entry),
// a trust page (the root to pin, keys, expiry, signature levels) and the
// search index search.json.
//
// The output is plain files with relative links, so it works under any
// sub-path, on any static host and from file://. Assets are embedded in
// the binary and written with content-hashed names. Every page carries a
// Content-Security-Policy that allows only the catalogue's own script and
// style; names and descriptions are escaped by html/template and READMEs
// are rendered with goldmark and sanitised with bluemonday (see
// RenderReadme), because package authors are strangers.
//
// Write renders everything; the same Data always yields the same bytes.
// The repository build renders incrementally with a Catalogue (or
// WriteWith): each package's pages carry a fingerprint of everything they
// show, pages whose fingerprint is unchanged are kept from the previous
// tree, and each package's pages are written as soon as the package is
// known, so the build can drop its older versions' descriptions; the
// result is byte-for-byte what Write gives.
package site
