package repo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/ebpfrepo/ebpfrepo/index"

	"github.com/ebpfrepo/ebpfrepo/client"
	"github.com/ebpfrepo/ebpfrepo/internal/outtree"
)

// SelfCheckError is a build output that failed the check the build runs
// over it before publishing it: nothing was published.
type SelfCheckError struct {
	Out      string
	Problems []string
}

func (e *SelfCheckError) Error() string {
	const show = 5
	p := e.Problems
	more := ""
	if len(p) > show {
		more = fmt.Sprintf("; and %d more", len(p)-show)
		p = p[:show]
	}
	return fmt.Sprintf("build: the new output failed its own check, so nothing was published (%s is as it was): %s%s. "+
		"An artifact's bytes are those of its file under packages/ (hard links): if that file changed since it was added (bit rot, an edit), restore it or remove the version; "+
		"a damaged spare tree goes with: rm -r %s",
		e.Out, strings.Join(p, "; "), more, filepath.Join(filepath.Dir(e.Out), "."+filepath.Base(e.Out)+".d"))
}

// check verifies the tree the build wrote, before the swap, as a client
// would (ebpfrepo check) — through TUF for every package built in this
// build and every package a re-signed bin or a publisher vouches for; by
// bytes against what the build holds for the rest (knownPackages): the metadata chain from the repository's first
// root, every target's length and sha256, the l3afd tree equal to the
// targets; and every file the grace period keeps against the sha256 it
// was published with. A build never publishes a file it has not read
// back.
// testHookSkipCheck, when set, skips the check: tests play a compromised
// CI publishing what the check would refuse, to show what clients do.
var testHookSkipCheck bool

func (b *buildRun) check(ctx context.Context) error {
	if testHookSkipCheck {
		return nil // a test playing a compromised CI, which would not check its own output
	}
	var problems []string
	for rel := range b.manifest.Retired {
		want := b.manifest.Files[rel]
		got, err := outtree.HashFile(filepath.Join(b.tmp, filepath.FromSlash(rel)))
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s: %v", rel, err))
		case got != want:
			problems = append(problems, fmt.Sprintf("%s: sha256 %s, published as %s", rel, got, want))
		}
	}
	root, err := os.ReadFile(filepath.Join(b.r.paths().Metadata(), "1.root.json"))
	if err != nil {
		return fmt.Errorf("build: check: %w", err)
	}
	cache, err := os.MkdirTemp(filepath.Dir(b.tmp), "check-")
	if err != nil {
		return fmt.Errorf("build: check: %w", err)
	}
	defer os.RemoveAll(cache)
	abs, err := filepath.Abs(b.tmp)
	if err != nil {
		return err
	}
	signNow := b.signNow
	c, err := client.New(client.Options{RepoURL: "file://" + filepath.ToSlash(abs), TrustedRoot: root, CacheDir: cache, Retries: -1,
		Now: func() time.Time { return signNow }})
	if err != nil {
		return fmt.Errorf("build: check: %w", err)
	}
	if b.stopRehash != nil {
		b.stopRehash()
		b.stopRehash = nil
	}
	opts := client.CheckOptions{Known: b.knownPackages(), Hashes: b.hashes}
	if opts.Known != nil {
		opts.Verified = b.verified // the reused index files plan hashed in the adopted spare
		// An artifact in a bin this build re-signed goes through TUF,
		// whatever package it belongs to.
		opts.Lookup = func(p string) bool { return b.binsSigned[b.tr.BinFor(p)] }
	}
	rep, err := c.CheckWith(ctx, opts)
	var ce *client.CheckError
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		// The check's own files (its metadata cache beside the build)
		// found the disk full: a fault of the host, not of the output.
		return fmt.Errorf("build: check: the file system is full: %w", err)
	case errors.As(err, &ce):
		problems = append(problems, ce.Problems...)
	case err != nil:
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return &SelfCheckError{Out: b.out, Problems: problems}
	}
	b.res.Checked = rep.Targets
	return nil
}

// knownPackages are the packages the check may verify by bytes: reused
// unchanged from the spare (whose check verified them through TUF when
// they were built) and claimed by no publisher. Their artifacts in bins
// this build re-signed still go through TUF (CheckOptions.Lookup);
// everything else does too. With BuildOptions.FullCheck, none.
func (b *buildRun) knownPackages() map[string]*index.Package {
	if b.opts.FullCheck || len(b.reused) == 0 {
		return nil
	}
	known := map[string]*index.Package{}
	for _, pb := range b.pkgs {
		if b.reused[pb.name] == nil || pb.pkg == nil {
			continue
		}
		if _, claimed := b.tr.ClaimOf(pb.name); claimed {
			continue
		}
		known[pb.name] = pb.pkg
	}
	return known
}
