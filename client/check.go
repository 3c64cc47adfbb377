package client

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
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

// checkChunk is how many packages' indexes a check holds at once, at
// least: minCheckChunk, or half the repository's packages when that is
// more. The TUF lookups of a chunk are made in the order of their paths'
// sha256 — the order of the hashed bins — and go-tuf is made to drop
// each bin once the lookups have moved past it: a check holds one bin at
// a time, not all of them (every bin of a repository is 24 MB parsed at
// 10,000 versions), and loads each bin once per chunk (the index files'
// entries and the artifacts' in one pass). So a chunk of fixed size made
// the check quadratic — chunks and bins both grow with the repository:
// with 2,048 packages a chunk, the check of 100,000 versions took 60 s,
// 31 times that of 10,000 — and at most two chunks bound it, for the
// memory of half the packages' releases (~3.4 KB each).
func checkChunk(packages int) int {
	return max(minCheckChunk, (packages+1)/2)
}

// minCheckChunk is the least chunk of checkChunk (a variable for tests
// of a check in two chunks).
var minCheckChunk = 2048

// CheckWith is Check, narrowed by opts.
func (c *Client) CheckWith(ctx context.Context, opts CheckOptions) (*CheckReport, error) {
	c.mu.Lock()
	if err := c.refreshLocked(ctx); err != nil {
		c.mu.Unlock()
		return nil, err
	}
	c.mu.Unlock()
	sum, err := c.Summary(ctx)
	if err != nil {
		return nil, err
	}
	r := &checkRun{c: c, opts: opts, lh: opts.Hashes, rep: &CheckReport{}, work: make(chan checkJob)}
	if r.lh == nil {
		r.lh = NewFileHashes()
	}
	// The bytes are read by one worker per CPU and a few more (for the
	// network) while the metadata is walked: a file is checked as soon as
	// its signed length and sha256 are known, and no list of every file
	// is held (25,000 targets and their copies at 10,000 versions).
	var wg sync.WaitGroup
	for range 2 * runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.read(ctx)
		}()
	}
	for chunk := range slices.Chunk(sum.Packages, checkChunk(len(sum.Packages))) {
		pkgs := r.indexes(ctx, chunk)
		if !r.targets(ctx, pkgs) {
			break
		}
	}
	close(r.work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rep := r.rep
	c.mu.Lock()
	if c.up != nil {
		if root := c.up.up.GetTrustedMetadataSet().Root; root != nil {
			rep.RootVersion = root.Signed.Version
		}
	}
	c.mu.Unlock()
	if len(rep.Problems) > 0 {
		slices.Sort(rep.Problems)
		return rep, &CheckError{Repo: c.base, Problems: rep.Problems, Errs: r.errs}
	}
	return rep, nil
}

// checkRun is one CheckWith: its options, what it found so far, and the
// files queued for the readers.
type checkRun struct {
	c    *Client
	opts CheckOptions
	lh   *FileHashes
	work chan checkJob

	mu   sync.Mutex // rep and errs
	rep  *CheckReport
	errs []error
}

// checkJob is a target whose files are to be read: its path, signed
// length and sha256 (hex), and its URLs — the consistent-snapshot target
// first, then its l3afd copies.
type checkJob struct {
	path   string
	length int64
	sha    string
	urls   []string
}

// checkPkg is a package of the summary whose index the check verified;
// known: taken from CheckOptions.Known. sum, when set, is the package's
// summary entry, against which its index file was verified: the signed
// target information of the index file is still to be looked up (with
// the artifacts', in one pass over the bins). p is nil when the index
// file failed.
type checkPkg struct {
	p     *index.Package
	known bool
	sum   *index.SummaryPackage
}

// lookup is an artifact whose signed target information the check looks
// up through TUF, or (sum set, the rest nil) a package's index file; key
// is the leading bytes of its path's sha256.
type lookup struct {
	key    uint64
	p      *index.Package
	v      *index.Version
	a      *index.Artifact
	latest bool
	sum    *index.SummaryPackage
}

// binOrder is the sort key of a target path: lookups in this order take
// the hashed bins (the leading bits of the sha256) one after the other.
func binOrder(targetPath string) uint64 {
	h := sha256.Sum256([]byte(targetPath))
	return binary.BigEndian.Uint64(h[:8])
}

func (r *checkRun) problem(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rep.Problems = append(r.rep.Problems, fmt.Sprintf(format, args...))
	for _, a := range args {
		if err, ok := a.(error); ok {
			r.errs = append(r.errs, err)
		}
	}
}

// read checks the files of the jobs queued until the queue closes.
func (r *checkRun) read(ctx context.Context) {
	for j := range r.work {
		ps, l3, n := checkFiles(ctx, r.c, r.lh, j.path, j.length, j.sha, j.urls)
		r.mu.Lock()
		r.rep.Problems = append(r.rep.Problems, ps...)
		r.rep.L3afd += l3
		r.rep.Bytes += n
		if n > 0 {
			r.rep.Targets++
		}
		r.mu.Unlock()
	}
}

// send queues the files of artifact a for the readers; false once ctx
// is done.
func (r *checkRun) send(ctx context.Context, p *index.Package, a *index.Artifact, latest bool) bool {
	base := r.c.base
	j := checkJob{path: a.Path, length: a.Length, sha: a.SHA256, urls: []string{base + "/" + layout.Target(a.Path, a.SHA256), base + "/" + layout.L3afd(a.Path)}}
	if latest {
		j.urls = append(j.urls, base+"/"+layout.L3afdLatest(p.Name, a.Platform, path.Base(a.Path)))
	}
	select {
	case r.work <- j:
		return true
	case <-ctx.Done():
		return false
	}
}

// indexes verifies the index file of each package of chunk: a known
// package's bytes against the signed summary; any other's bytes against
// the signed summary too, leaving its signed target information to the
// bin-ordered pass of targets (the two passes over the bins, one for the
// index files and one for the artifacts, were half the check's time),
// or, when the summary names no digest, through TUF (in bin order). A
// package whose index fails is a problem and has no p.
func (r *checkRun) indexes(ctx context.Context, chunk []index.SummaryPackage) []checkPkg {
	c := r.c
	out := make([]checkPkg, len(chunk))
	var viaTUF []int
	for i := range chunk {
		sp := &chunk[i]
		p, known := r.opts.Known[sp.Name]
		tp := layout.PackageIndexTarget(sp.Name)
		if !known && !summaryNamesIndex(sp, tp) {
			viaTUF = append(viaTUF, i)
			continue
		}
		rel := layout.Target(tp, sp.IndexSHA256)
		u := c.base + "/" + rel
		if known {
			if r.opts.Verified[rel] == sp.IndexSHA256 {
				// read back by the caller in this tree
			} else if _, err := r.lh.verify(ctx, c.fetcher, u, sp.IndexLength, sp.IndexSHA256); err != nil {
				r.problem("%s: index of %s: %v", rel, sp.Name, err)
				continue
			}
			out[i] = checkPkg{p: p, known: true}
			continue
		}
		out[i] = checkPkg{sum: sp}
		data, err := c.fetcher.Download(ctx, u, sp.IndexLength)
		if err == nil {
			if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != sp.IndexSHA256 {
				err = fmt.Errorf("sha256 %x, the signed summary says %s", sum, sp.IndexSHA256)
			}
		}
		if err == nil {
			out[i].p, err = decodeReleases(tp, sp.Name, data)
		}
		if err != nil {
			r.problem("%s: index of %s: %v", rel, sp.Name, err)
		}
	}
	keys := make(map[int]uint64, len(viaTUF))
	for _, i := range viaTUF {
		keys[i] = binOrder(layout.PackageIndexTarget(chunk[i].Name))
	}
	slices.SortFunc(viaTUF, func(a, b int) int { return cmp.Compare(keys[a], keys[b]) })
	for _, i := range viaTUF {
		name := chunk[i].Name
		p, err := c.releases(ctx, name)
		c.forgetBins(layout.PackageIndexTarget(name))
		if err != nil {
			r.problem("%s: %v", layout.PackageIndexTarget(name), err)
			continue
		}
		out[i] = checkPkg{p: p}
	}
	return out
}

// summaryNamesIndex reports whether the summary entry sp gives the index
// file at tp a usable length and digest: a name that is one path
// component, a length, 64 lowercase hex digits. The summary comes from
// the repository; anything else goes through TUF, which reports it.
func summaryNamesIndex(sp *index.SummaryPackage, tp string) bool {
	if sp.Index != tp || checkComponent("name", sp.Name) != nil || sp.IndexLength < 0 || len(sp.IndexSHA256) != 2*sha256.Size {
		return false
	}
	return !strings.ContainsFunc(sp.IndexSHA256, func(r rune) bool { return (r < '0' || r > '9') && (r < 'a' || r > 'f') })
}

// targets queues every artifact of pkgs for the readers, after looking
// up (in bin order) the signed target information of those TUF vouches
// for in this check: every artifact of a package not known, and those
// of known packages that opts.Lookup names; and, in the same pass, the
// index files verified against the summary. False once ctx is done.
func (r *checkRun) targets(ctx context.Context, pkgs []checkPkg) bool {
	var todo []lookup
	for _, cp := range pkgs {
		if cp.sum != nil {
			todo = append(todo, lookup{key: binOrder(cp.sum.Index), sum: cp.sum})
		}
		p := cp.p
		if p == nil {
			continue
		}
		r.rep.Packages++
		latest := p.Latest()
		for i := range p.Versions {
			v := &p.Versions[i]
			r.rep.Versions++
			for k := range v.Artifacts {
				a := &v.Artifacts[k]
				if !cp.known || (r.opts.Lookup != nil && r.opts.Lookup(a.Path)) {
					todo = append(todo, lookup{key: binOrder(a.Path), p: p, v: v, a: a, latest: v == latest})
					continue
				}
				if !r.send(ctx, p, a, v == latest) {
					return false
				}
			}
		}
	}
	slices.SortFunc(todo, func(a, b lookup) int { return cmp.Compare(a.key, b.key) })
	for _, l := range todo {
		if l.sum != nil {
			r.lookupIndex(ctx, l.sum)
			r.c.forgetBins(l.sum.Index)
			continue
		}
		ok := r.lookup(ctx, l)
		r.c.forgetBins(l.a.Path)
		if ok && !r.send(ctx, l.p, l.a, l.latest) {
			return false
		}
	}
	return true
}

// lookupIndex checks that the signed target information of a package's
// index file is what the signed summary says, against which indexes
// verified its bytes.
func (r *checkRun) lookupIndex(ctx context.Context, sp *index.SummaryPackage) {
	c := r.c
	c.mu.Lock()
	defer c.mu.Unlock()
	_, tf, err := c.targetInfo(ctx, sp.Index)
	if err != nil {
		r.problem("%s: %v", sp.Index, err)
		return
	}
	if h := hex.EncodeToString(tf.Hashes["sha256"]); tf.Length != sp.IndexLength || h != sp.IndexSHA256 {
		r.problem("%s: the summary (%s) says %d bytes sha256 %s, the signed targets %d bytes sha256 %s", sp.Index, layout.SummaryTarget, sp.IndexLength, sp.IndexSHA256, tf.Length, h)
	}
}

// lookup verifies an artifact's index entry against its signed target
// information, and a keyless publisher's bundle for it; false (and a
// problem) when either fails.
func (r *checkRun) lookup(ctx context.Context, l lookup) bool {
	c, a := r.c, l.a
	c.mu.Lock()
	defer c.mu.Unlock()
	up, tf, err := c.targetInfo(ctx, a.Path)
	if err != nil {
		r.problem("target %s (%s@%s): %v", a.Path, l.p.Name, l.v.Version, err)
		return false
	}
	if h := hex.EncodeToString(tf.Hashes["sha256"]); tf.Length != a.Length || h != a.SHA256 {
		r.problem("target %s: the index says %d bytes sha256 %s, the signed targets %d bytes sha256 %s", a.Path, a.Length, a.SHA256, tf.Length, h)
		return false
	}
	// A keyless publisher's bundle, verified as a client would.
	rel := newRelease(l.p.Name, l.v, a)
	sig, err := c.keylessSigner(ctx, up, rel, a.SHA256, signerOf(up.SignerChain(a.Path)))
	if err != nil {
		r.problem("target %s: %v", layout.BundleTarget(a.Path), err)
		return false
	}
	if sig.Keyless != nil {
		r.mu.Lock()
		r.rep.Keyless++
		r.mu.Unlock()
	}
	return true
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
