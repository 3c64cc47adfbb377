package index

import (
	"time"

	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

// Schema is the version of the index file format this package writes.
// Readers reject files with a larger schema.
const Schema = 1

// Package is the per-package index file (targets/index/<name>.json): every
// published version of one package, newest first (semantic version order).
type Package struct {
	Schema   int       `json:"schema"`
	Name     string    `json:"name"`
	Versions []Version `json:"versions"`
}

// Version is one published name@version.
type Version struct {
	Version     string              `json:"version"`
	Prerelease  bool                `json:"prerelease,omitempty"`
	Added       time.Time           `json:"added"` // when the version entered the repository (UTC, whole seconds)
	Yanked      *Yank               `json:"yanked,omitempty"`
	Artifacts   []Artifact          `json:"artifacts"` // one per platform, sorted by platform
	Signatures  *Signatures         `json:"signatures,omitempty"`
	Description *pkgfmt.Description `json:"description"` // nil only in a build's lean, in-memory forms: a published index has one for every version
}

// Yank marks a version withdrawn from range resolution and "latest".
type Yank struct {
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// Artifact is one downloadable file of a version for one platform.
type Artifact struct {
	Platform string `json:"platform"`
	Path     string `json:"path"` // TUF target path: <name>/<version>/<platform>/<artifact>
	Length   int64  `json:"length"`
	SHA256   string `json:"sha256"` // lowercase hex
}

// Summary is targets/index/all.json: one line of facts per package, enough
// for search and the catalogue's home page.
type Summary struct {
	Schema      int              `json:"schema"`
	Repository  string           `json:"repository"`
	Description string           `json:"description,omitempty"`
	Packages    []SummaryPackage `json:"packages"` // sorted by name
}

// SummaryPackage summarises one package.
type SummaryPackage struct {
	Name         string   `json:"name"`
	Latest       string   `json:"latest"`             // Package.Latest: the newest stable version; "" when there is none
	Featured     string   `json:"featured,omitempty"` // Package.Featured, when it is not Latest: the version the fields below describe
	Description  string   `json:"description"`
	Keywords     []string `json:"keywords,omitempty"`
	License      string   `json:"license,omitempty"`
	Platforms    []string `json:"platforms"`
	ProgramTypes []string `json:"program_types"`
	Versions     int      `json:"versions"`
	Index        string   `json:"index"` // target path of the package index file
	IndexLength  int64    `json:"index_length"`
	IndexSHA256  string   `json:"index_sha256"`
}

// Describe returns v's description; a version that carries none (the lean
// forms a build or a check holds in memory) reads as an empty one.
func (v *Version) Describe() *pkgfmt.Description {
	if v.Description == nil {
		return &pkgfmt.Description{}
	}
	return v.Description
}
