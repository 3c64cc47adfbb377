package repo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ebpfrepo/ebpfrepo/bpfobj"
	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/internal/atomicfile"
	"github.com/ebpfrepo/ebpfrepo/internal/buildcache"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
	"github.com/ebpfrepo/ebpfrepo/tufrepo"
)

// AddOptions configures Add. The zero value means defaults.
type AddOptions struct {
	Now    time.Time // the "added" date; zero: SOURCE_DATE_EPOCH, else the current time
	Verify bool      // also run the kernel verifier (always on when ebpfrepo.toml says verify = true)
	// Signed are publisher role files (pub-<publisher>.json, as ebpfrepo
	// sign writes them) vouching for the claimed packages added: a
	// package a publisher holds is refused without one.
	Signed []string
	// Bundle is a Sigstore bundle over the one artifact added (cosign
	// sign-blob --bundle, or a GitHub attestation): a package a keyless
	// publisher holds is refused without one that verifies. Without it,
	// <artifact>.sigstore.json beside the artifact is used if present.
	Bundle string
}

// AddResult says what Add did with one path.
type AddResult struct {
	Source    string           `json:"source"` // the path given
	Name      string           `json:"name"`
	Version   string           `json:"version"`
	Path      string           `json:"path"` // the artifact under packages/
	Length    int64            `json:"length"`
	SHA256    string           `json:"sha256"`
	Unchanged bool             `json:"unchanged"` // identical bytes were already there: nothing to do
	Warnings  []pkgfmt.Problem `json:"warnings,omitempty"`
	// Keyless is what the package's Sigstore bundle proved, verified
	// offline against the repository's trusted root and grants.
	Keyless *index.KeylessSignature `json:"keyless,omitempty"`
}

// ConflictError reports an attempt to replace a published name@version
// with different bytes.
type ConflictError struct {
	Package       string // name@version
	Existing, New string // sha256 of the artifact in the repository and of the one offered
	ExistingPath  string // the file in the repository
	NewPath       string // the path offered
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("package %s is already in the repository with other bytes (%s sha256 %s; %s sha256 %s): a published version is immutable, publish a new version instead",
		e.Package, e.ExistingPath, e.Existing, e.NewPath, e.New)
}

type pending struct {
	res  AddResult
	data []byte
	desc *pkgfmt.Description
	art  string // artifact file name
	// bundle is the verified Sigstore bundle of a keyless publisher's
	// package, written beside the artifact.
	bundle []byte
}

// Add validates each path (an artifact, or a source directory that is
// packed first) and copies the valid artifacts into
// packages/<name>/<version>/<artifact>. If any package has an error,
// nothing is copied and the error is an *InvalidError listing every
// problem. A name@version already present with identical bytes is a
// no-op (AddResult.Unchanged); with different bytes it is refused with a
// *ConflictError.
func (r *Repo) Add(ctx context.Context, paths []string, opts AddOptions) ([]AddResult, error) {
	s, err := r.open("add", opts.Now)
	if err != nil {
		return nil, err
	}
	defer s.close()
	if opts.Bundle != "" && len(paths) != 1 {
		return nil, fmt.Errorf("add --bundle %s: a bundle signs one artifact: add the artifacts one by one", opts.Bundle)
	}
	todo, err := r.validateAdds(ctx, paths, opts.Verify || r.Config.Verify)
	if err != nil {
		return nil, err
	}
	if err := r.acceptClaims(ctx, s, todo, opts.Signed); err != nil {
		return nil, err
	}
	if err := r.acceptBundles(ctx, todo, opts.Bundle); err != nil {
		return nil, err
	}
	r.cleanStaging(todo)
	return r.writeAdds(todo, opts.Verify || r.Config.Verify, s.now)
}

// acceptClaims verifies the publisher role files offered and checks that
// every package a publisher holds is vouched for, byte for byte, by its
// publisher's role; then it keeps the roles in the metadata of record
// (the next build publishes them). The repository never re-signs them.
func (r *Repo) acceptClaims(ctx context.Context, s *session, todo []*pending, signed []string) error {
	var tr *tufrepo.Repo
	var err error
	if len(signed) > 0 {
		tr, _, err = s.metadata(ctx) // the roles accepted are saved with the rest
	} else {
		tr, err = tufrepo.LoadClaims(ctx, r.paths().Metadata()) // only asked who holds what
	}
	if err != nil {
		return err
	}
	for _, f := range signed {
		raw, err := tufrepo.ReadRoleFile(f)
		if err != nil {
			return fmt.Errorf("add --signed %s: %w", f, err)
		}
		name, ok := strings.CutPrefix(strings.TrimSuffix(filepath.Base(f), ".json"), tufrepo.PublisherPrefix)
		if !ok {
			return fmt.Errorf("add --signed %s: want a file named %s<publisher>.json, as ebpfrepo sign writes it", f, tufrepo.PublisherPrefix)
		}
		if _, err := tr.AcceptPublisherRole(name, raw); err != nil {
			var pe *tufrepo.PublisherRoleError
			if errors.As(err, &pe) {
				pe.File = f
			}
			return fmt.Errorf("add: %w", err)
		}
	}
	var problems pkgfmt.Problems
	for _, p := range todo {
		if p.res.Unchanged {
			continue
		}
		g, ok := tr.ClaimOf(p.res.Name)
		if !ok {
			continue
		}
		role, _ := tr.PublisherRoleOf(g.Publisher)
		for _, plat := range p.desc.Manifest.Platforms {
			tp := layout.ArtifactTarget(p.res.Name, p.res.Version, plat, p.art)
			var t tufrepo.Target
			if role != nil {
				t = role.Targets[tp]
			}
			switch {
			case t.Path == "":
				problems = append(problems, pkgfmt.Problem{Severity: pkgfmt.SeverityError, Package: p.res.Name + "@" + p.res.Version, File: p.res.Source,
					Code: "repo.unsigned-claimed", Message: fmt.Sprintf("publisher %s holds package %s, and its role does not list %s: the author signs it (ebpfrepo sign --publisher %s) and you add it with --signed %s%s.json",
						g.Publisher, p.res.Name, tp, g.Publisher, tufrepo.PublisherPrefix, g.Publisher)})
			case t.Length != p.res.Length || t.SHA256 != p.res.SHA256:
				problems = append(problems, pkgfmt.Problem{Severity: pkgfmt.SeverityError, Package: p.res.Name + "@" + p.res.Version, File: p.res.Source,
					Code: "repo.signed-mismatch", Message: fmt.Sprintf("publisher %s signed %s with %d bytes sha256 %s, but this artifact is %d bytes sha256 %s: add the artifact the author signed",
						g.Publisher, tp, t.Length, t.SHA256, p.res.Length, p.res.SHA256)})
			}
		}
	}
	if len(problems) > 0 {
		return &InvalidError{Op: "add", Problems: problems}
	}
	if len(signed) == 0 {
		return nil
	}
	return s.saveMetadata(ctx, tr)
}

// validateAdds packs (source directories) and validates every path, and
// checks each against what packages/ already holds. Any error of any
// package is returned as one *InvalidError, before anything is written.
func (r *Repo) validateAdds(ctx context.Context, paths []string, verify bool) ([]*pending, error) {
	lint, _, err := r.lintTrust()
	if err != nil {
		return nil, fmt.Errorf("add: %w", err)
	}
	lint.Verify, lint.Objects = verify, bpfobj.NewObjectCache()
	tmpDir, err := os.MkdirTemp("", "ebpfrepo-add-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmpDir)
	var (
		todo     []*pending
		problems pkgfmt.Problems
		seen     = map[string]*pending{}
	)
	for i, src := range paths {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p, probs, err := r.validateAdd(ctx, src, filepath.Join(tmpDir, fmt.Sprint(i)), lint)
		if err != nil {
			return nil, err
		}
		if len(probs) > 0 {
			problems = append(problems, probs...)
			continue
		}
		key := p.res.Name + "@" + p.res.Version
		if prev, ok := seen[key]; ok {
			if prev.res.SHA256 != p.res.SHA256 {
				return nil, &ConflictError{Package: key, Existing: prev.res.SHA256, New: p.res.SHA256, ExistingPath: prev.res.Source, NewPath: src}
			}
			p.res.Unchanged = true
			p.data = nil
		} else if err := r.checkExisting(p); err != nil {
			return nil, err
		}
		seen[key] = p
		todo = append(todo, p)
	}
	if len(problems) > 0 {
		return nil, &InvalidError{Op: "add", Problems: problems}
	}
	return todo, nil
}

// validateAdd reads (packing a source directory into tmp first) and
// validates one path; it returns the package, or its errors.
func (r *Repo) validateAdd(ctx context.Context, src, tmp string, lint pkgfmt.LintOptions) (*pending, pkgfmt.Problems, error) {
	art := src
	fi, err := os.Stat(src)
	if err != nil {
		return nil, nil, fmt.Errorf("add %s: %w", src, err)
	}
	if fi.IsDir() {
		art, err = pkgfmt.Pack(ctx, src, tmp, pkgfmt.PackOptions{})
		if me, ok := err.(*pkgfmt.ManifestError); ok {
			var probs pkgfmt.Problems
			for _, p := range me.Problems.Errors() {
				p.Package = src
				probs = append(probs, p)
			}
			return nil, probs, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("add %s: %w", src, err)
		}
	}
	data, sha, err := readArtifact(art, lint.Limits)
	if err != nil {
		return nil, nil, fmt.Errorf("add %s: %w", src, err)
	}
	d := describeBytes(ctx, art, data, lint)
	m := d.Manifest
	label := src
	if m.Name != "" && m.Version != "" {
		label = m.Name + "@" + m.Version + " (" + src + ")"
	}
	if !fi.IsDir() && m.Artifact != "" && filepath.Base(art) != m.Artifact {
		d.Problems = append(d.Problems, pkgfmt.Problem{Severity: pkgfmt.SeverityError, File: filepath.Base(art), Field: "artifact",
			Code: "repo.artifact-name", Message: fmt.Sprintf("the file is named %q but the manifest's artifact is %q: rename the file or fix the manifest", filepath.Base(art), m.Artifact)})
	}
	if m.Name != "" {
		d.Problems = append(d.Problems, r.policyProblems(label, m.Name, d)...)
	}
	var warns, errs pkgfmt.Problems
	for _, p := range d.Problems {
		p.Package = label
		if p.Severity == pkgfmt.SeverityError {
			errs = append(errs, p)
		} else {
			warns = append(warns, p)
		}
	}
	if len(errs) > 0 {
		return nil, errs, nil
	}
	p := &pending{res: AddResult{Source: src, Name: m.Name, Version: m.Version, Length: int64(len(data)), SHA256: sha, Warnings: warns},
		data: data, desc: d, art: m.Artifact}
	p.res.Path = r.paths().Artifact(m.Name, m.Version, m.Artifact)
	return p, nil, nil
}

// writeAdds copies the validated packages into packages/ with their added
// date, and records them in the caches so the next build reads nothing.
func (r *Repo) writeAdds(todo []*pending, verify bool, now time.Time) ([]AddResult, error) {
	_, salt, err := r.lintTrust()
	if err != nil {
		return nil, err
	}
	cache := buildcache.NewDescriptions(r.paths().Cache("desc")).WithSalt(salt)
	defer cache.Flush() // a cache: a failure only costs time
	stats := buildcache.LoadStats(r.paths().Cache("files.json"))
	var out []AddResult
	for _, p := range todo {
		if p.res.Unchanged && p.bundle != nil {
			if err := atomicfile.WriteFile(p.res.Path+layout.BundleSuffix, p.bundle, 0o644); err != nil {
				return out, err
			}
		}
		if !p.res.Unchanged {
			if err := r.placeVersion(p, now); err != nil {
				return out, err
			}
			if fi, err := os.Stat(p.res.Path); err == nil {
				rel, _ := filepath.Rel(r.paths().Packages(), p.res.Path)
				stats.Set(filepath.ToSlash(rel), fi, p.res.SHA256)
			}
		}
		_ = cache.Put(p.res.SHA256, verify, p.desc) // a cache: a failure only costs time
		out = append(out, p.res)
	}
	_ = stats.Save()
	return out, nil
}

// testHookAdd, if set, is called at each step of placeVersion ("staged",
// "placed"): tests stop the process there.
var testHookAdd func(step string)

// stagingInfix is in the name of a version directory being written:
// packages/<name>/.<version>.add-*.
const stagingInfix = ".add-"

// placeVersion writes one version whole or not at all: its added file and
// artifact go into a staging directory beside the version's, synced,
// which is then renamed into place. A version directory with no artifact
// (left by an add interrupted before this was atomic) is replaced.
func (r *Repo) placeVersion(p *pending, now time.Time) error {
	dir := filepath.Dir(p.res.Path)
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	stage, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+stagingInfix)
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage) // gone once renamed; a leftover otherwise
	if err := os.Chmod(stage, 0o755); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(stage, layout.AddedFile), []byte(now.Format(time.RFC3339)+"\n"), 0o644); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(stage, p.art), p.data, 0o644); err != nil {
		return err
	}
	if p.bundle != nil {
		if err := atomicfile.WriteFile(filepath.Join(stage, p.art+layout.BundleSuffix), p.bundle, 0o644); err != nil {
			return err
		}
	}
	if testHookAdd != nil {
		testHookAdd("staged")
	}
	if ents, err := os.ReadDir(dir); err == nil {
		for _, e := range ents {
			if e.Name() != layout.AddedFile && !strings.HasPrefix(e.Name(), ".") {
				return fmt.Errorf("add %s@%s: %s appeared while adding: add again", p.res.Name, p.res.Version, filepath.Join(dir, e.Name()))
			}
		}
		if err := os.RemoveAll(dir); err != nil { // holds no artifact: an interrupted add
			return err
		}
	}
	if err := os.Rename(stage, dir); err != nil {
		return err
	}
	if d, err := os.Open(parent); err == nil {
		d.Sync()
		d.Close()
	}
	if testHookAdd != nil {
		testHookAdd("placed")
	}
	return nil
}

// cleanStaging removes what interrupted adds left in the directories of
// the packages about to be added: staging directories, and the temporary
// files of an atomic write. A build removes them everywhere as it scans
// (isLeftover); an add looks only where it writes, not at every version
// of the repository (a glob over 11,000 directories at 10,000 versions).
func (r *Repo) cleanStaging(todo []*pending) {
	seen := map[string]bool{}
	for _, p := range todo {
		if seen[p.res.Name] {
			continue
		}
		seen[p.res.Name] = true
		dir := filepath.Join(r.paths().Packages(), p.res.Name)
		leftovers, _ := filepath.Glob(filepath.Join(dir, "."+"*"+stagingInfix+"*"))
		tmps, _ := filepath.Glob(filepath.Join(dir, "*", ".*"+tmpInfix+"*"))
		for _, p := range append(leftovers, tmps...) {
			os.RemoveAll(p)
		}
	}
}

// tmpInfix is in the name of an atomic write's temporary file.
const tmpInfix = ".tmp-"

// isLeftover reports whether a name under packages/ is what an
// interrupted add left: a staging directory (in a package's directory)
// or an atomic write's temporary file (in a version's).
func isLeftover(name, infix string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name[1:], infix)
}

// checkExisting compares p with what packages/<name>/<version>/ holds.
func (r *Repo) checkExisting(p *pending) error {
	dir := filepath.Dir(p.res.Path)
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	key := p.res.Name + "@" + p.res.Version
	for _, e := range ents {
		if e.Name() == layout.AddedFile || strings.HasPrefix(e.Name(), ".") || strings.HasSuffix(e.Name(), layout.BundleSuffix) {
			continue
		}
		existing := filepath.Join(dir, e.Name())
		_, sha, err := readArtifact(existing, pkgfmt.Limits{})
		if err != nil {
			return fmt.Errorf("package %s: %w", key, err)
		}
		if e.Name() != p.art || sha != p.res.SHA256 {
			return &ConflictError{Package: key, Existing: sha, New: p.res.SHA256, ExistingPath: existing, NewPath: p.res.Source}
		}
		p.res.Unchanged = true
		p.data = nil
	}
	return nil
}
