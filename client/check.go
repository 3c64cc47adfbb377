package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// CheckReport is what Check verified of a published repository.
type CheckReport struct {
	Packages    int      `json:"packages"`
	Versions    int      `json:"versions"`
	Targets     int      `json:"targets"`      // artifacts verified against the signed targets
	L3afd       int      `json:"l3afd"`        // files of the plain l3afd tree found equal to their targets
	Keyless     int      `json:"keyless"`      // keyless publishers' Sigstore bundles verified (one per artifact target)
	Bytes       int64    `json:"bytes"`        // artifact bytes read and hashed
	Problems    []string `json:"problems"`     // each names the file and what is wrong with it
	RootVersion int64    `json:"root_version"` // the newest root the chain reached
}

// CheckError lists everything Check found wrong.
type CheckError struct {
	Repo     string
	Problems []string
	// Errs are the errors behind the problems, where there were errors:
	// errors.Is sees through a CheckError to them (a full disk under the
	// check's cache, say).
	Errs []error
}

func (e *CheckError) Unwrap() []error { return e.Errs }

func (e *CheckError) Error() string {
	const show = 10
	p := e.Problems
	more := ""
	if len(p) > show {
		more = fmt.Sprintf("; and %d more", len(p)-show)
		p = p[:show]
	}
	return fmt.Sprintf("repository %s: %d problem(s): %s%s", e.Repo, len(e.Problems), strings.Join(p, "; "), more)
}

// Check verifies a published repository completely, as a client would
// and further: the chain of metadata from the pinned root (signatures,
// versions, expiry), the signed index and every package index, every
// artifact each index lists — its signed target information (through
// publisher delegations where a publisher holds the package), and its
// bytes at the consistent-snapshot name, length and sha256 — and the
// plain l3afd tree: each version's file, and each package's latest/,
// byte for byte the target. Problems are collected, not stopped at: the
// error is a *CheckError listing each with the file it concerns.
// Nothing is written outside the client's cache.
func (c *Client) Check(ctx context.Context) (*CheckReport, error) {
	return c.CheckWith(ctx, CheckOptions{})
}

// CheckOptions narrow Check. The zero value checks everything.
type CheckOptions struct {
	// Known are packages (by name) whose index file and TUF metadata an
	// earlier check verified and that have not changed since — for
	// ebpfrepo build, the unchanged packages of a tree whose bins for
	// them were not re-signed. Check verifies the bytes of a known
	// package's index file against the signed summary, and every one of
	// its files (targets, l3afd copies) against the package given here,
	// without the TUF lookups.
	Known map[string]*index.Package
	// Verified are files of the tree (slash-separated paths → sha256)
	// that the caller has already read back in this tree — ebpfrepo
	// build's plan hashes the index files it reuses — and that Check
	// then does not read again.
	Verified map[string]string
	// Hashes, if set, are local files already read (by inode, size and
	// modification time), which Check does not read again under any of
	// their names — for ebpfrepo build, the artifacts it read under
	// packages/, which the tree it checks links. Check adds what it reads.
	Hashes *FileHashes
	// Lookup, if set, names the artifacts of known packages that are
	// still looked up through TUF — for ebpfrepo build, those in the
	// hashed bins it re-signed — and compared with the known package.
	Lookup func(targetPath string) bool
}

// CheckWith is Check, narrowed by opts.
func (c *Client) CheckWith(ctx context.Context, opts CheckOptions) (*CheckReport, error) {
	c.mu.Lock()
	if err := c.refreshLocked(ctx); err != nil {
		c.mu.Unlock()
		return nil, err
	}
	c.mu.Unlock()
	rep := &CheckReport{}
	sum, err := c.Summary(ctx)
	if err != nil {
		return nil, err
	}
	type job struct {
		path   string // the target path
		length int64  // and its length and sha256 (hex), as signed
		sha    string
		urls   []string // the consistent-snapshot target first, then its l3afd copies
	}
	var errs []error
	var mu sync.Mutex // rep and errs
	problem := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		rep.Problems = append(rep.Problems, fmt.Sprintf(format, args...))
		for _, a := range args {
			if err, ok := a.(error); ok {
				errs = append(errs, err)
			}
		}
	}
	lh := opts.Hashes
	if lh == nil {
		lh = NewFileHashes()
	}
	// The bytes are read by one worker per CPU and a few more (for the
	// network) while the metadata is walked: a file is checked as soon as
	// its signed length and sha256 are known, and no list of every file
	// is held (25,000 targets and their copies at 10,000 versions).
	work := make(chan job)
	var wg sync.WaitGroup
	for range 2 * runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				ps, l3, n := checkFiles(ctx, c, lh, j.path, j.length, j.sha, j.urls)
				mu.Lock()
				rep.Problems = append(rep.Problems, ps...)
				rep.L3afd += l3
				rep.Bytes += n
				if n > 0 {
					rep.Targets++
				}
				mu.Unlock()
			}
		}()
	}
	send := func(j job) bool {
		select {
		case work <- j:
			return true
		case <-ctx.Done():
			return false
		}
	}
walk:
	for _, sp := range sum.Packages {
		p, known := opts.Known[sp.Name]
		if known {
			rel := layout.Target(layout.PackageIndexTarget(sp.Name), sp.IndexSHA256)
			u := c.base + "/" + rel
			if opts.Verified[rel] == sp.IndexSHA256 {
				// read back by the caller in this tree
			} else if _, err := lh.verify(ctx, c.fetcher, u, sp.IndexLength, sp.IndexSHA256); err != nil {
				problem("%s: index of %s: %v", strings.TrimPrefix(u, c.base+"/"), sp.Name, err)
				continue
			}
		} else {
			var err error
			if p, err = c.releases(ctx, sp.Name); err != nil {
				problem("%s: %v", layout.PackageIndexTarget(sp.Name), err)
				continue
			}
		}
		rep.Packages++
		latest := p.Latest()
		for i := range p.Versions {
			v := &p.Versions[i]
			rep.Versions++
			for _, a := range v.Artifacts {
				if !known || (opts.Lookup != nil && opts.Lookup(a.Path)) {
					c.mu.Lock()
					up, tf, err := c.targetInfo(ctx, a.Path)
					if err != nil {
						c.mu.Unlock()
						problem("target %s (%s@%s): %v", a.Path, p.Name, v.Version, err)
						continue
					}
					if h := hex.EncodeToString(tf.Hashes["sha256"]); tf.Length != a.Length || h != a.SHA256 {
						c.mu.Unlock()
						problem("target %s: the index says %d bytes sha256 %s, the signed targets %d bytes sha256 %s", a.Path, a.Length, a.SHA256, tf.Length, h)
						continue
					}
					// A keyless publisher's bundle, verified as a client would.
					rel := newRelease(p.Name, v, &a)
					sig, err := c.keylessSigner(ctx, up, rel, a.SHA256, signerOf(up.SignerChain(a.Path)))
					c.mu.Unlock()
					if err != nil {
						problem("target %s: %v", layout.BundleTarget(a.Path), err)
						continue
					}
					if sig.Keyless != nil {
						rep.Keyless++
					}
				}
				j := job{path: a.Path, length: a.Length, sha: a.SHA256, urls: []string{c.base + "/" + layout.Target(a.Path, a.SHA256), c.base + "/" + layout.L3afd(a.Path)}}
				if v == latest {
					j.urls = append(j.urls, c.base+"/"+layout.L3afdLatest(p.Name, a.Platform, path.Base(a.Path)))
				}
				if !send(j) {
					break walk
				}
			}
		}
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.up != nil {
		if r := c.up.up.GetTrustedMetadataSet().Root; r != nil {
			rep.RootVersion = r.Signed.Version
		}
	}
	c.mu.Unlock()
	if len(rep.Problems) > 0 {
		slices.Sort(rep.Problems)
		return rep, &CheckError{Repo: c.base, Problems: rep.Problems, Errs: errs}
	}
	return rep, nil
}

// checkFiles verifies a target's files at urls (the consistent-snapshot
// target first, then its l3afd copies) against its signed length and
// sha256, and returns the problems, the l3afd copies that matched and the
// bytes of the target read.
func checkFiles(ctx context.Context, c *Client, lh *FileHashes, target string, length int64, sha string, urls []string) (ps []string, l3 int, n int64) {
	for i, u := range urls {
		size, err := lh.verify(ctx, c.fetcher, u, length, sha)
		var le *metadata.ErrDownloadLengthMismatch
		if errors.As(err, &le) {
			err = fmt.Errorf("longer than the %d bytes signed", length)
		}
		if err != nil {
			what := "target"
			if i > 0 {
				what = "l3afd copy of"
			}
			ps = append(ps, fmt.Sprintf("%s: %s %s: %v", strings.TrimPrefix(u, c.base+"/"), what, target, err))
			continue
		}
		if i == 0 {
			n += size
		} else {
			l3++
		}
	}
	return ps, l3, n
}

// verify checks the file at u against length and sha256 and returns its
// length. A file:// URL is read from the disk directly (each file
// once); any other through the fetcher.
func (lh *FileHashes) verify(ctx context.Context, f *Fetcher, u string, length int64, want string) (int64, error) {
	if p, ok := strings.CutPrefix(u, "file://"); ok {
		if k, ok := keyOf(p); ok {
			if k.size != length {
				return 0, fmt.Errorf("%d bytes, signed %d", k.size, length)
			}
			sum, seen := lh.get(k)
			if !seen {
				var err error
				if sum, err = fileSHA256(p); err != nil {
					return 0, err
				}
				lh.put(k, sum)
			}
			if sum != want {
				return 0, fmt.Errorf("sha256 %s, signed %s", sum, want)
			}
			return k.size, nil
		}
	}
	data, err := f.Download(ctx, u, length)
	if err != nil {
		return 0, err
	}
	if int64(len(data)) != length {
		return 0, fmt.Errorf("%d bytes, signed %d", len(data), length)
	}
	if got := sha256Hex(data); got != want {
		return 0, fmt.Errorf("sha256 %s, signed %s", got, want)
	}
	return length, nil
}

func sha256Hex(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}
