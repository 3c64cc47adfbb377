// Package layout owns every path of ebpfrepo's two trees: the published
// repository (what a static host serves: TUF metadata, targets, the plain
// l3afd tree, the catalogue) and the repository directory a maintainer
// keeps (ebpfrepo.toml, keys/, packages/, metadata/, .cache/). No other
// package concatenates these paths by hand, and the HTTP caching policy of
// every published path lives here too, so `ebpfrepo serve`, the
// publishing recipes and `publish` agree.
//
// Published paths are slash-separated and relative to the tree's root,
// because the tree works under any base URL or sub-path. The functions
// are pure: they check nothing on disk.
package layout
