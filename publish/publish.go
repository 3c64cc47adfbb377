package publish

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ebpfrepo/ebpfrepo/internal/filehash"

	"github.com/ebpfrepo/ebpfrepo/layout"
)

// StateKey is the object, relative to the tree's prefix, that records
// what a publish uploaded: path → sha256, and when each path left the
// tree.
const StateKey = ".ebpfrepo/published.json"

// ErrNotFound is what Store.Get returns for an object that is not there.
var ErrNotFound = errors.New("not found")

// Store is a medium a tree is published to. Keys are slash-separated
// paths relative to the tree's root. Implementations must be safe for
// concurrent use.
type Store interface {
	// Get returns an object's bytes, ErrNotFound (wrapped) if it is not
	// there.
	Get(ctx context.Context, key string) ([]byte, error)
	// Put stores size bytes from body at key with meta.
	Put(ctx context.Context, key string, body io.ReadSeeker, size int64, meta Meta) error
	// Delete removes keys (missing keys are not an error).
	Delete(ctx context.Context, keys []string) error
	// String names the store for messages ("s3://bucket/prefix").
	String() string
}

// Meta is what a Put sends beside the bytes.
type Meta struct {
	CacheControl string
	ContentType  string
	SHA256       string // hex, of the bytes
}

// Options configure Publish. The zero value means defaults.
type Options struct {
	// Grace is how long a path that left the tree stays on the store;
	// 0 means 3 days, negative means delete at once.
	Grace time.Duration
	// Now is the clock of the grace period; nil means time.Now.
	Now func() time.Time
	// DryRun plans and reports without uploading or deleting anything.
	DryRun bool
	// Workers is how many uploads run at once within a step; 0 means 8.
	Workers int
	// Progress, if set, is told after each upload: done of total.
	Progress func(done, total int)
}

// Result says what Publish did (or, with DryRun, would do).
type Result struct {
	Store     string   `json:"store"`
	DryRun    bool     `json:"dry_run"`
	Uploaded  int      `json:"uploaded"`
	Unchanged int      `json:"unchanged"`
	Bytes     int64    `json:"bytes_uploaded"`
	Retained  int      `json:"retained"` // left the tree, kept through the grace period
	Deleted   []string `json:"deleted"`
	Steps     []Step   `json:"steps"`
}

// Step is one group of uploads; a group starts when the one before it
// is wholly on the store.
type Step struct {
	Name  string   `json:"name"`
	Files []string `json:"files"`
}

// state is StateKey's content.
type state struct {
	Files   map[string]string `json:"files"`   // path → sha256
	Retired map[string]int64  `json:"retired"` // path → Unix seconds it left the tree
}

// file is one file of the local tree.
type file struct {
	rel  string
	abs  string
	size int64
	sha  string
}

// Publish uploads the tree at dir to st, as the package documentation
// describes, and records what is there in StateKey. dir must hold a
// built repository (metadata/timestamp.json).
func Publish(ctx context.Context, dir string, st Store, opts Options) (*Result, error) {
	opts = opts.withDefaults()
	res := &Result{Store: st.String(), DryRun: opts.DryRun, Deleted: []string{}}
	local, err := scanTree(dir)
	if err != nil {
		return nil, err
	}
	if _, ok := local[layout.Timestamp]; !ok {
		return nil, fmt.Errorf("publish: %s has no %s: not a build output (ebpfrepo build writes one)", dir, layout.Timestamp)
	}
	prev, err := loadState(ctx, st)
	if err != nil {
		return nil, err
	}
	steps, unchanged := plan(local, prev)
	res.Unchanged = unchanged
	next, due := retire(local, prev, opts.Now(), opts.Grace)
	res.Retained = len(next.Retired)
	total := 0
	for _, s := range steps {
		res.Steps = append(res.Steps, Step{Name: s.name, Files: rels(s.files)})
		total += len(s.files)
	}
	if opts.DryRun {
		for _, s := range steps {
			res.Uploaded += len(s.files)
			for _, f := range s.files {
				res.Bytes += f.size
			}
		}
		res.Deleted = append(res.Deleted, due...)
		return res, nil
	}
	done := 0
	for _, s := range steps {
		n, err := upload(ctx, st, s.files, opts.Workers, func() {
			done++
			if opts.Progress != nil {
				opts.Progress(done, total)
			}
		})
		res.Bytes += n
		if err != nil {
			return res, fmt.Errorf("publish %s: step %s: %w (the store still serves the previous %s: publish again)", st, s.name, err, layout.Timestamp)
		}
		res.Uploaded += len(s.files)
	}
	if len(due) > 0 {
		if err := st.Delete(ctx, due); err != nil {
			return res, fmt.Errorf("publish %s: deleting what left the tree more than %v ago: %w", st, opts.Grace, err)
		}
		res.Deleted = append(res.Deleted, due...)
	}
	if err := saveState(ctx, st, next); err != nil {
		return res, err
	}
	return res, nil
}

func (o Options) withDefaults() Options {
	if o.Grace == 0 {
		o.Grace = 3 * 24 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
	return o
}

// scanTree lists and hashes the regular files under dir; a link or
// special file is refused (a build never writes one).
func scanTree(dir string) (map[string]*file, error) {
	files := map[string]*file{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !d.Type().IsRegular() {
			return fmt.Errorf("publish: %s: not a regular file (a link or special file): a build output holds none", rel)
		}
		sha, size, err := filehash.SHA256(p)
		if err != nil {
			return err
		}
		files[rel] = &file{rel: rel, abs: p, size: size, sha: sha}
		return nil
	})
	return files, err
}

// loadState reads what the last publish recorded; none (a first publish,
// or a store that answers 403 for what is missing) is an empty record.
func loadState(ctx context.Context, st Store) (*state, error) {
	s := &state{Files: map[string]string{}, Retired: map[string]int64{}}
	data, err := st.Get(ctx, StateKey)
	if errors.Is(err, ErrNotFound) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("publish %s: reading %s: %w", st, StateKey, err)
	}
	if err := json.Unmarshal(data, s); err != nil {
		return nil, fmt.Errorf("publish %s: %s is damaged (%v): delete it to upload everything again", st, StateKey, err)
	}
	if s.Files == nil {
		s.Files = map[string]string{}
	}
	if s.Retired == nil {
		s.Retired = map[string]int64{}
	}
	return s, nil
}

func saveState(ctx context.Context, st Store, s *state) error {
	data, err := json.MarshalIndent(s, "", " ")
	if err != nil {
		return err
	}
	r := strings.NewReader(string(data))
	if err := st.Put(ctx, StateKey, r, int64(len(data)), Meta{CacheControl: layout.CacheNoCache, ContentType: "application/json"}); err != nil {
		return fmt.Errorf("publish %s: recording what was published: %w", st, err)
	}
	return nil
}

// step is one group of uploads.
type step struct {
	name  string
	files []*file
}

// stepOf is the step a path is uploaded in; see the package documentation.
func stepOf(rel string) int {
	top, rest, _ := strings.Cut(rel, "/")
	switch {
	case top == layout.TargetsDir:
		return 0
	case top == layout.L3afdDir:
		return 1
	case rel == layout.Timestamp:
		return 5
	case top == layout.MetadataDir && strings.HasSuffix(rest, ".snapshot.json"):
		return 3
	case top == layout.MetadataDir:
		return 2
	default:
		return 4
	}
}

var stepNames = []string{"targets", "l3afd", "delegated metadata", "snapshot", "catalogue", "timestamp"}

// plan groups the files whose bytes the store does not have yet into
// steps, in order; it returns how many are already there.
func plan(local map[string]*file, prev *state) ([]step, int) {
	groups := make([][]*file, len(stepNames))
	unchanged := 0
	for rel, f := range local {
		if prev.Files[rel] == f.sha {
			unchanged++
			continue
		}
		i := stepOf(rel)
		groups[i] = append(groups[i], f)
	}
	var steps []step
	for i, g := range groups {
		if len(g) == 0 {
			continue
		}
		slices.SortFunc(g, func(a, b *file) int { return strings.Compare(metaOrder(a.rel), metaOrder(b.rel)) })
		steps = append(steps, step{stepNames[i], g})
	}
	return steps, unchanged
}

// metaOrder sorts root versions before the roles they delegate to, in
// version order; other paths by name.
func metaOrder(rel string) string {
	base := path.Base(rel)
	if v, role, ok := strings.Cut(base, "."); ok && strings.HasPrefix(rel, layout.MetadataDir+"/") {
		if n, err := strconv.Atoi(v); err == nil {
			prio := "1"
			if role == "root.json" {
				prio = "0"
			}
			return fmt.Sprintf("%s%s%012d", prio, role, n)
		}
	}
	return "2" + rel
}

// retire is the record after this publish: the local tree, plus what
// left it within the grace period; due lists what leaves the store now.
func retire(local map[string]*file, prev *state, now time.Time, grace time.Duration) (*state, []string) {
	next := &state{Files: map[string]string{}, Retired: map[string]int64{}}
	for rel, f := range local {
		next.Files[rel] = f.sha
	}
	var due []string
	for rel, sha := range prev.Files {
		if _, ok := local[rel]; ok || rel == StateKey {
			continue
		}
		since, ok := prev.Retired[rel]
		if !ok {
			since = now.Unix()
		}
		if grace < 0 || now.Sub(time.Unix(since, 0)) >= grace {
			due = append(due, rel)
			continue
		}
		next.Files[rel] = sha
		next.Retired[rel] = since
	}
	slices.Sort(due)
	return next, due
}

// upload puts files on st, workers at a time; it returns the bytes sent.
func upload(ctx context.Context, st Store, files []*file, workers int, tick func()) (int64, error) {
	var (
		mu    sync.Mutex
		sent  int64
		first error
		wg    sync.WaitGroup
	)
	work := make(chan *file)
	for range min(workers, len(files)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				err := putFile(ctx, st, f)
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				if err == nil {
					sent += f.size
					tick()
				}
				mu.Unlock()
			}
		}()
	}
	for _, f := range files {
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed || ctx.Err() != nil {
			break
		}
		work <- f
	}
	close(work)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return sent, first
}

func putFile(ctx context.Context, st Store, f *file) error {
	fh, err := os.Open(f.abs)
	if err != nil {
		return err
	}
	defer fh.Close()
	ct := layout.ContentType(f.rel)
	if ct == "" {
		ct = "application/octet-stream"
	}
	if err := st.Put(ctx, f.rel, fh, f.size, Meta{CacheControl: layout.CacheControl(f.rel), ContentType: ct, SHA256: f.sha}); err != nil {
		return fmt.Errorf("%s: %w", f.rel, err)
	}
	return nil
}

func rels(fs []*file) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.rel
	}
	return out
}
