package repo

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ebpfrepo/ebpfrepo/internal/buildcache"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

// A build validates every version before it writes any index file, and
// a description is bulky (programs, maps, files, README, kernel report):
// holding all of them, even deflated, was most of a cold build's heap
// (23 MB at 10,000 versions). Every validated description is in the
// description cache anyway (.cache/desc, written as it is validated), so
// from validation until its package's index file is written a version
// keeps only a stub — what the checks between the two read: the
// manifest's name, version and artifact, and the problems — and the
// sha256 of the description's JSON; its package reads it back from the
// cache. What comes back must be those exact bytes: the cache is a file
// any program could have changed. A miss or a mismatch (a full disk, a
// cache altered meanwhile) describes the artifact again from its bytes,
// which must give the same description, or the build stops.

// setDesc parks d: raw is its JSON encoding, which the description cache
// holds (or will, once flushed).
func (it *item) setDesc(d *pkgfmt.Description, raw []byte) {
	it.parked, it.descSum = true, sha256.Sum256(raw)
	// The stub's strings are copied: a decoded manifest's strings share
	// the manifest's whole text (the TOML decoder slices its input), and
	// the stub lives until the package's index is written — 2 KB a
	// version, 20 MB at 10,000 versions, held only for three names.
	m := &d.Manifest
	it.desc = &pkgfmt.Description{Manifest: pkgfmt.Manifest{Name: strings.Clone(m.Name), Version: strings.Clone(m.Version),
		Artifact: strings.Clone(m.Artifact)}, Problems: d.Problems}
}

// descStore is where parked descriptions are read back: the build's
// description cache, and what to describe a version with again when the
// cache no longer holds its description.
type descStore struct {
	descs *buildcache.Descriptions
	lint  pkgfmt.LintOptions
}

// store is where the versions this validator described are parked.
func (v *validator) store() *descStore {
	lint := v.lint
	lint.Objects = nil // the memo of objects is not kept past validation
	return &descStore{descs: v.descs, lint: lint}
}

// description returns the whole description of a validated item and
// drops the item's copy.
func (it *item) description(ctx context.Context, s *descStore) (*pkgfmt.Description, error) {
	if !it.parked {
		d := it.desc
		it.desc = nil
		return d, nil
	}
	if s == nil {
		return nil, fmt.Errorf("no description store") // a build stage out of order
	}
	raw, ok := s.descs.Raw(it.sha, s.lint.Verify)
	if !ok || sha256.Sum256(raw) != it.descSum {
		var err error
		if raw, err = it.describeAgain(ctx, s); err != nil {
			return nil, err
		}
	}
	var d pkgfmt.Description
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	it.desc, it.parked = nil, false
	return &d, nil
}

// describeAgain validates the artifact again when the description cache
// lost or changed the description parked there; the new description
// must be the one validated before.
func (it *item) describeAgain(ctx context.Context, s *descStore) ([]byte, error) {
	_, raw, sha, err := describeFile(ctx, it.file(), s.lint)
	if err != nil {
		return nil, err
	}
	if sha != it.sha {
		return nil, fmt.Errorf("%s changed while the build ran (sha256 %s, was %s): build again", it.file(), sha, it.sha)
	}
	if sha256.Sum256(raw) != it.descSum {
		return nil, fmt.Errorf("%s: described again (the build cache no longer held its description), it is not described as it was validated: build again", it.file())
	}
	return raw, nil
}
