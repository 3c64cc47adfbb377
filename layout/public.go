package layout

import (
	"path"
	"strconv"
	"strings"
)

// Top-level directories of the published tree.
const (
	MetadataDir = "metadata" // TUF metadata: N.root.json, timestamp.json, N.snapshot.json, N.<role>.json
	TargetsDir  = "targets"  // TUF targets at consistent (hash-prefixed) names
	L3afdDir    = "l3afd"    // the plain tree l3afd downloads from: <name>/<version>/<platform>/<artifact>
)

// Catalogue paths.
const (
	HomePage    = "index.html"
	TrustPage   = "trust.html"
	SearchIndex = "search.json"
	AssetsDir   = "assets"
	PagesDir    = "packages" // packages/<name>/index.html and a page per version
)

// TUF target paths of the index files (relative to the targets root).
const SummaryTarget = "index/all.json"

// Timestamp is the published timestamp.json: the only file replaced in
// place.
const Timestamp = MetadataDir + "/timestamp.json"

// KeylessTarget is the TUF target path of a keyless file
// ("keyless/publishers.json"), listed by the top-level targets role.
func KeylessTarget(file string) string { return KeylessDir + "/" + file }

// BundleTarget is the TUF target path of the Sigstore bundle over an
// artifact target: <artifact target>.sigstore.json.
func BundleTarget(artifactTarget string) string { return artifactTarget + BundleSuffix }

// PackageIndexTarget is the TUF target path of a package's index file.
func PackageIndexTarget(name string) string { return "index/" + name + ".json" }

// ArtifactTarget is the TUF target path of an artifact:
// <name>/<version>/<platform>/<artifact>, which is also its path under
// l3afd/ and in a mirror.
func ArtifactTarget(name, version, platform, artifact string) string {
	return name + "/" + version + "/" + platform + "/" + artifact
}

// Metadata is the published path of a metadata file named name
// ("timestamp.json", "3.snapshot.json").
func Metadata(name string) string { return MetadataDir + "/" + name }

// RootFile is the file name of root version n: "<n>.root.json".
func RootFile(n int64) string { return strconv.FormatInt(n, 10) + ".root.json" }

// Root is the published path of root version n.
func Root(n int64) string { return Metadata(RootFile(n)) }

// FirstRoot is the root a consumer pins: metadata/1.root.json.
var FirstRoot = Root(1)

// ConsistentTargetName is the hash-prefixed name TUF consistent snapshots
// give a target: <dir>/<sha256>.<base>.
func ConsistentTargetName(targetPath, sha256hex string) string {
	dir, base := path.Split(targetPath)
	return dir + sha256hex + "." + base
}

// Target is the published path of a target with the given sha256:
// targets/<dir>/<sha256>.<base>.
func Target(targetPath, sha256hex string) string {
	return TargetsDir + "/" + ConsistentTargetName(targetPath, sha256hex)
}

// L3afd is the published path of an artifact in the plain l3afd tree.
func L3afd(targetPath string) string { return L3afdDir + "/" + targetPath }

// LatestVersion is the version segment l3afd asks for the newest stable
// version.
const LatestVersion = "latest"

// L3afdLatest is where the plain tree keeps the newest stable version's
// artifact for a platform: l3afd/<name>/latest/<platform>/<artifact>.
func L3afdLatest(name, platform, artifact string) string {
	return L3afd(ArtifactTarget(name, LatestVersion, platform, artifact))
}

// MirrorLatest is the same place relative to a mirror's root (a mirror is
// a plain l3afd tree without the l3afd/ prefix).
func MirrorLatest(name, platform, artifact string) string {
	return ArtifactTarget(name, LatestVersion, platform, artifact)
}

// PackagePage is the catalogue page of a package.
func PackagePage(name string) string { return PagesDir + "/" + name + "/index.html" }

// MetadataURL and TargetsURL are the base URLs a TUF client reads from,
// for a repository at base (no trailing slash needed).
func MetadataURL(base string) string { return strings.TrimRight(base, "/") + "/" + MetadataDir + "/" }

// TargetsURL: see MetadataURL.
func TargetsURL(base string) string { return strings.TrimRight(base, "/") + "/" + TargetsDir + "/" }

// InTUFTree reports whether rel (a clean relative slash path) lies in one
// of the trees a build manages file by file: metadata/, targets/ or
// l3afd/ — the rest of the output is the catalogue.
func InTUFTree(rel string) bool {
	top, _, _ := strings.Cut(rel, "/")
	return top == MetadataDir || top == TargetsDir || top == L3afdDir
}

// Cache-Control values of the published tree.
const (
	CacheImmutable = "public, max-age=31536000, immutable"
	CacheNoCache   = "no-cache"
)

// CacheControl is the Cache-Control a host should send for the published
// path rel (slash-separated, relative; a leading "/" is ignored):
// immutable for version- and hash-prefixed metadata and targets, which
// never change once published; no-cache for timestamp.json (replaced in
// place), the catalogue pages and the plain l3afd tree (its latest/ moves,
// a new build may put other bytes at the same path), immutable for the
// catalogue's content-hashed assets.
func CacheControl(rel string) string {
	rel = strings.TrimPrefix(rel, "/")
	switch top, _, _ := strings.Cut(rel, "/"); {
	case rel == Timestamp:
		return CacheNoCache
	case top == MetadataDir, top == TargetsDir, top == AssetsDir:
		return CacheImmutable
	default:
		return CacheNoCache
	}
}

// ContentType is the media type a host should send for the published
// path rel ("" when the extension says nothing this tree uses).
func ContentType(rel string) string {
	switch {
	case strings.HasSuffix(rel, ".json"):
		return "application/json"
	case strings.HasSuffix(rel, ".tar.gz"), strings.HasSuffix(rel, ".tgz"):
		return "application/gzip"
	case strings.HasSuffix(rel, ".zip"):
		return "application/zip"
	case strings.HasSuffix(rel, ".html"), strings.HasSuffix(rel, "/"), rel == "":
		return "text/html; charset=utf-8"
	case strings.HasSuffix(rel, ".css"):
		return "text/css; charset=utf-8"
	case strings.HasSuffix(rel, ".js"):
		return "text/javascript; charset=utf-8"
	case strings.HasSuffix(rel, ".svg"):
		return "image/svg+xml"
	}
	return ""
}
