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
// The repository build fills a Data and calls Write with its temporary
// output directory; the same Data always yields the same bytes.
package site
