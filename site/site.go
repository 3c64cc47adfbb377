package site

import (
	"context"
	"time"

	"github.com/ebpfrepo/ebpfrepo/index"
)

// Data is everything the catalogue shows. The repository build fills it in.
type Data struct {
	Repository  string    // repository name
	Description string    // repository description
	BaseURL     string    // public base URL if configured ("" = unknown; snippets use a placeholder)
	Generated   time.Time // build time (SOURCE_DATE_EPOCH), UTC
	Summary     *index.Summary
	Packages    []*index.Package // sorted by name
	Trust       Trust
}

// Trust describes the repository's TUF roles for the trust page.
type Trust struct {
	RootPath   string // relative path of 1.root.json in the output, e.g. "metadata/1.root.json"
	RootSHA256 string // sha256 of that file, lowercase hex
	Roles      []Role // root, targets, snapshot, timestamp (and a summary of the bins)
	Bins       int    // number of hash-bin delegations
}

// Role is one TUF role as published at build time.
type Role struct {
	Name      string
	Version   int64
	Expires   time.Time
	KeyIDs    []string
	Threshold int
}

// Write renders the catalogue into dir (the build's temporary output root):
// index.html, trust.html, packages/<name>/index.html, search.json, assets/.
// (Placeholder until the catalogue work, issue 5, lands.)
func Write(ctx context.Context, dir string, d *Data) error { return nil }
