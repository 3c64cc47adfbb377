package repo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/internal/buildcache"
	"github.com/ebpfrepo/ebpfrepo/internal/outtree"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/site"
)

// pkgKey digests every input of a package's index file and pages: the
// schema, whether the verifier ran, and for each version its place under
// packages/, its artifact's sha256 and length, its added date and its
// yank, and who signs it. The same key means the same index file. A
// version whose added date this build records (recordAdded) has now as
// its date: the date the next build reads back from its added file.
func pkgKey(name string, its []*item, verify bool, salt string, yanks *yankFile, sig *index.Signatures, now time.Time) string {
	h := sha256.New()
	fmt.Fprintf(h, "schema %d verify %t salt %q name %q\n", index.Schema, verify, salt, name)
	if sig != nil {
		fmt.Fprintf(h, "signed %q %q %q %q\n", sig.Package.Signer, sig.Package.Publisher, sig.Package.Role, sig.Package.KeyIDs)
	}
	for _, it := range its {
		added := it.added
		if it.recordAdded {
			added = now
		}
		fmt.Fprintf(h, "%q %s %d %s", it.rel, it.sha, it.length, added.UTC().Format(time.RFC3339Nano))
		if y := yanks.lookup(it.name, it.version); y != nil {
			fmt.Fprintf(h, " yank %q %s", y.Reason, y.At.UTC().Format(time.RFC3339Nano))
		}
		if it.keyless != nil {
			fmt.Fprintf(h, " keyless %q %s", it.keyless.Publisher, it.bundleSHA)
		}
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// cacheable reports whether a package's versions can be remembered in the
// package cache: every added date is known, recorded before or by this
// build (a cold build records them all: the build after it must still be
// incremental).
func cacheable(its []*item) bool {
	for _, it := range its {
		if it.added.IsZero() && !it.recordAdded {
			return false
		}
	}
	return true
}

// plan decides, before any description is taken, which packages the
// spare output tree serves as they are: every input is what the package
// cache remembers (pkgKey), and the spare holds their index file and
// catalogue pages, with the content its manifest records. Their
// descriptions are never taken; prepare adopts the spare.
func (b *buildRun) plan(context.Context) error {
	b.pc = buildcache.LoadPackages(b.r.paths().Cache("packages.json"))
	b.spare = outtree.Peek(b.out)
	cloned := b.spare == nil
	if cloned {
		b.spare = outtree.CloneLive(b.out) // the first build after a cold build is incremental too
	}
	var unserved map[string]string
	b.reused, unserved = b.unchangedPackages()
	// The spare is the tree before the live one: after a build that
	// rendered most pages anew (a new ebpfrepo, a new template), it lacks
	// what the live tree holds. What the live tree serves of the unchanged
	// packages is grafted into the spare (a link per file), which costs
	// less than rendering them a second time; should that fail, a clone of
	// the whole live tree does. Finding what the live tree serves means
	// reading its manifest, which costs about as much as rendering one
	// package in graftShare (0.1 s at 10,000 versions): for fewer — the
	// package the build before changed — rendering is cheaper.
	if !cloned && len(unserved)*graftShare > len(unserved)+len(b.reused) {
		if g, n := liveServes(b.out, b.r.siteHead(), unserved); n > 0 {
			if err := b.spare.Graft(b.out, g); err != nil {
				how := "cloned the live tree instead"
				if b.spare = outtree.CloneLive(b.out); b.spare == nil {
					how = "built the output anew"
				}
				b.res.Notes = append(b.res.Notes, fmt.Sprintf("the spare output tree could not take the live tree's files (%v): %s", err, how))
			}
			for _, it := range b.items {
				it.reused = false
			}
			b.reused, _ = b.unchangedPackages()
		}
	}
	b.pc.Entries = nil // those still needed are in reused
	return nil
}

// graftShare: plan grafts from the live tree when more than one unchanged
// package in graftShare is not in the spare.
const graftShare = 64

// liveServes finds the packages of unserved (name → index sha256) whose
// index file and catalogue pages the live tree holds as they are, and
// returns them as what to graft into the spare, and how many.
func liveServes(out string, head *site.Data, unserved map[string]string) (outtree.Graft, int) {
	g := outtree.Graft{Files: map[string]string{}, Pages: map[string]string{}}
	live := outtree.LiveTree(out)
	if live == nil || live.Manifest.Catalogue == nil || !validPageNames(live.Manifest.Catalogue) {
		return g, 0
	}
	fps, err := site.Fingerprints(head, unserved)
	if err != nil {
		return g, 0
	}
	for name, sha := range unserved {
		rel := layout.Target(layout.PackageIndexTarget(name), sha)
		if live.Manifest.Files[rel] == sha && fps[name] != "" && live.Manifest.Catalogue[name] == fps[name] {
			g.Files[rel] = sha
			g.Pages[name] = fps[name]
		}
	}
	return g, len(g.Pages)
}

// unchangedPackages finds the packages whose every input is what the
// package cache remembers and whose index file and catalogue pages the
// spare tree holds, and marks their items reused. Unserved are the
// unchanged packages the spare does not hold as they are (name → index
// sha256).
func (b *buildRun) unchangedPackages() (reused map[string]*buildcache.PackageEntry, unserved map[string]string) {
	type cand struct {
		its []*item
		e   *buildcache.PackageEntry
	}
	sp := b.spare
	if sp == nil || sp.Manifest.Catalogue == nil || !validPageNames(sp.Manifest.Catalogue) {
		return nil, nil
	}
	unserved = map[string]string{}
	cands := map[string]cand{}
	digests := map[string]string{}
	for i := 0; i < len(b.items); {
		j, ok := i, true
		for ; j < len(b.items) && b.items[j].name == b.items[i].name; j++ {
			if it := b.items[j]; it.problem != nil || !it.lazy || it.added.IsZero() {
				ok = false
			}
		}
		name, its := b.items[i].name, b.items[i:j]
		i = j
		e := b.pc.Entries[name]
		if !ok || e == nil || e.Package == nil || e.Package.Name != name || len(e.Package.Versions) != len(its) {
			continue
		}
		if e.Key != pkgKey(name, its, b.r.Config.Verify, b.v.descs.Salt(), b.yanks, b.signatures(name), b.now) {
			continue
		}
		rel := layout.Target(layout.PackageIndexTarget(name), e.IndexSHA)
		if sp.Manifest.Files[rel] != e.IndexSHA || !sp.Intact(rel, e.IndexSHA) || !sp.Has(layout.PackagePage(name)) {
			unserved[name] = e.IndexSHA
			continue
		}
		cands[name] = cand{its, e}
		digests[name] = e.IndexSHA
	}
	fps, err := site.Fingerprints(b.r.siteHead(), digests)
	if err != nil {
		return nil, nil
	}
	reused = map[string]*buildcache.PackageEntry{}
	for name, c := range cands {
		if fp := fps[name]; fp == "" || sp.Manifest.Catalogue[name] != fp {
			unserved[name] = c.e.IndexSHA
			continue
		}
		for _, it := range c.its {
			it.reused = true
		}
		reused[name] = c.e
	}
	return reused, unserved
}

// validPageNames reports whether every package name of a catalogue
// manifest is a plain path component.
func validPageNames(m map[string]string) bool {
	for name := range m {
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\") {
			return false
		}
	}
	return true
}
