package tufrepo

import (
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// Targets listed directly by the top-level targets role — offline, so
// the repository's CI cannot change them: the keyless publishers'
// grants and the Sigstore trusted root. Their paths are outside every
// delegation's patterns ("*/*/*/*", "index/*"), and a TUF client looks
// in the role's own targets before any delegation.

// TopTargets returns the targets the top-level targets role lists
// itself, sorted by path.
func (r *Repo) TopTargets() []Target {
	if !r.ready() {
		return nil
	}
	return topTargetsOf(r.targets.md)
}

func topTargetsOf(md *metadata.Metadata[metadata.TargetsType]) []Target {
	var out []Target
	for _, p := range slices.Sorted(maps.Keys(md.Signed.Targets)) {
		tf := md.Signed.Targets[p]
		out = append(out, Target{Path: p, Length: tf.Length, SHA256: hex.EncodeToString(tf.Hashes["sha256"])})
	}
	return out
}

// SetTopTargets makes ts the targets the top-level targets role lists
// itself (replacing those with the same paths; a target with Length -1
// is removed): a signing event of targets, whose key must be at hand.
func (r *Repo) SetTopTargets(ts []Target) error {
	if !r.ready() {
		return errNotReady
	}
	files := maps.Clone(r.targets.md.Signed.Targets)
	if files == nil {
		files = map[string]*metadata.TargetFiles{}
	}
	for _, t := range ts {
		if t.Path == "" || strings.Count(t.Path, "/") >= 2 || strings.HasPrefix(t.Path, "index/") {
			return fmt.Errorf("tufrepo: top-level target %q: a delegation's paths would cover it", t.Path)
		}
		if t.Length < 0 {
			delete(files, t.Path)
			continue
		}
		sum, err := hex.DecodeString(t.SHA256)
		if err != nil || len(sum) != 32 {
			return fmt.Errorf("tufrepo: top-level target %s: sha256 %q", t.Path, t.SHA256)
		}
		files[t.Path] = &metadata.TargetFiles{Length: t.Length, Hashes: metadata.Hashes{"sha256": sum}, Path: t.Path}
	}
	return r.signingEvent(cloneDelegations(r.targets.md.Signed.Delegations), files)
}
