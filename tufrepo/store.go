package tufrepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/ebpfrepo/ebpfrepo/internal/atomicfile"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// maxMetadataFile bounds a metadata file Load reads.
const maxMetadataFile = 64 << 20

// maxRoots bounds the root versions Load follows.
const maxRoots = 100000

// MetadataError is a problem with one metadata file of a directory Load
// reads.
type MetadataError struct {
	File string
	Err  error
}

func (e *MetadataError) Error() string { return fmt.Sprintf("tufrepo: metadata %s: %v", e.File, e.Err) }
func (e *MetadataError) Unwrap() error { return e.Err }

// Load reads the metadata Save wrote into dir: every N.root.json, then
// timestamp.json, the snapshot it names, and the targets and bins that
// snapshot names. Everything is verified (signatures and thresholds,
// versions), but not expiry: expired metadata is what Update renews.
// Bins are verified in parallel and kept as bytes and a summary only.
// A dir without 1.root.json gives an error that wraps fs.ErrNotExist.
func Load(ctx context.Context, dir string, opts Options) (*Repo, error) {
	return load(ctx, dir, opts, true)
}

// LoadClaims is Load without the bins (which dominate a load): enough to
// ask who holds a package (ClaimOf, Grants, PublisherRoleOf) and to verify
// a publisher's role (VerifyPublisherRole), not to sign or save.
func LoadClaims(ctx context.Context, dir string) (*Repo, error) {
	return load(ctx, dir, Options{}, false)
}

func load(ctx context.Context, dir string, opts Options, withBins bool) (*Repo, error) {
	r := &Repo{bins: map[string]binMeta{}, opts: opts, pubs: map[string]signedMeta[metadata.TargetsType]{}, partial: !withBins}
	if _, err := opts.Config.withDefaults(); err != nil {
		return nil, err
	}
	for v := 1; v <= maxRoots; v++ {
		name := fmt.Sprintf("%d.root.json", v)
		raw, err := readMeta(dir, name)
		if errors.Is(err, fs.ErrNotExist) && v > 1 {
			break
		}
		if err != nil {
			if v == 1 {
				return nil, fmt.Errorf("tufrepo: load %s: no repository metadata (run ebpfrepo init): %w", dir, err)
			}
			return nil, err
		}
		md, err := new(metadata.Metadata[metadata.RootType]).FromBytes(raw)
		if err != nil {
			return nil, &MetadataError{File: filepath.Join(dir, name), Err: err}
		}
		if md.Signed.Version != int64(v) {
			return nil, &MetadataError{File: filepath.Join(dir, name), Err: fmt.Errorf("version %d, want %d", md.Signed.Version, v)}
		}
		if v > 1 {
			if err := r.root().VerifyDelegate(RoleRoot, md); err != nil {
				return nil, &MetadataError{File: filepath.Join(dir, name), Err: fmt.Errorf("not signed by root version %d: %w", v-1, err)}
			}
		}
		if err := md.VerifyDelegate(RoleRoot, md); err != nil {
			return nil, &MetadataError{File: filepath.Join(dir, name), Err: err}
		}
		if !md.Signed.ConsistentSnapshot {
			return nil, &MetadataError{File: filepath.Join(dir, name), Err: errors.New("consistent_snapshot is false; ebpfrepo publishes consistent snapshots only")}
		}
		r.roots = append(r.roots, signedMeta[metadata.RootType]{md, raw})
	}
	root := r.root()
	var err error
	if r.timestamp, err = loadRole[metadata.TimestampType](dir, RoleTimestamp+".json", 0, RoleTimestamp, root); err != nil {
		return nil, err
	}
	sm := r.timestamp.md.Signed.Meta[RoleSnapshot+".json"]
	if sm == nil {
		return nil, &MetadataError{File: filepath.Join(dir, "timestamp.json"), Err: errors.New("no snapshot.json entry")}
	}
	if r.snapshot, err = loadRole[metadata.SnapshotType](dir, fmt.Sprintf("%d.snapshot.json", sm.Version), sm.Version, RoleSnapshot, root); err != nil {
		return nil, err
	}
	meta := r.snapshot.md.Signed.Meta
	snapName := filepath.Join(dir, fmt.Sprintf("%d.snapshot.json", sm.Version))
	tm := meta[RoleTargets+".json"]
	if tm == nil {
		return nil, &MetadataError{File: snapName, Err: errors.New("no targets.json entry")}
	}
	if r.targets, err = loadRole[metadata.TargetsType](dir, fmt.Sprintf("%d.targets.json", tm.Version), tm.Version, RoleTargets, root); err != nil {
		return nil, err
	}
	if err := r.loadDelegated(dir, meta, snapName); err != nil {
		return nil, err
	}
	sr := r.succinct()
	if sr == nil || sr.NamePrefix != RoleBins || sr.BitLength < MinBinBits || sr.BitLength > MaxBinBits {
		return nil, &MetadataError{File: filepath.Join(dir, fmt.Sprintf("%d.%s.json", version(r.binDelegator()), binDelegatorName(r))),
			Err: fmt.Errorf("must delegate to succinct hashed bins %q of %d … %d bits only", RoleBins, MinBinBits, MaxBinBits)}
	}
	names := sr.GetRoles()
	for _, n := range names {
		if meta[n+".json"] == nil {
			return nil, &MetadataError{File: snapName, Err: fmt.Errorf("no %s.json entry", n)}
		}
	}
	if !withBins {
		return r, nil
	}
	cache := openBinCache(opts.BinCache, binTrust(r.binDelegator()))
	bins, err := loadBins(ctx, dir, r.binDelegator(), names, meta, cache)
	if err != nil {
		return nil, err
	}
	for i, n := range names {
		r.bins[n] = bins[i]
	}
	cache.save(names)
	return r, nil
}

func (c *Config) setDefaults() error {
	d, err := c.withDefaults()
	*c = d
	return err
}

// loadRole reads, parses and verifies one metadata file signed by
// delegator (root or targets), of version want (0: any).
func loadRole[T metadata.Roles, D metadata.RootType | metadata.TargetsType](dir, name string, want int64, role string, delegator *metadata.Metadata[D]) (signedMeta[T], error) {
	var s signedMeta[T]
	raw, err := readMeta(dir, name)
	if err != nil {
		return s, err
	}
	p := filepath.Join(dir, name)
	md, err := new(metadata.Metadata[T]).FromBytes(raw)
	if err != nil {
		return s, &MetadataError{File: p, Err: err}
	}
	if err := delegator.VerifyDelegate(role, md); err != nil {
		return s, &MetadataError{File: p, Err: err}
	}
	if v := version(md); want != 0 && v != want {
		return s, &MetadataError{File: p, Err: fmt.Errorf("version %d, want %d", v, want)}
	}
	return signedMeta[T]{md, raw}, nil
}

func version[T metadata.Roles](md *metadata.Metadata[T]) int64 {
	switch s := any(&md.Signed).(type) {
	case *metadata.RootType:
		return s.Version
	case *metadata.TargetsType:
		return s.Version
	case *metadata.SnapshotType:
		return s.Version
	case *metadata.TimestampType:
		return s.Version
	}
	return 0
}

func readMeta(dir, name string) ([]byte, error) {
	return readMetaFile(filepath.Join(dir, name))
}

func readMetaFile(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, &MetadataError{File: p, Err: err}
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxMetadataFile+1))
	if err != nil {
		return nil, &MetadataError{File: p, Err: err}
	}
	if len(raw) > maxMetadataFile {
		return nil, &MetadataError{File: p, Err: fmt.Errorf("larger than %d bytes", maxMetadataFile)}
	}
	return raw, nil
}

// versioned matches the metadata files Save may remove once superseded.
var versioned = regexp.MustCompile(`^([0-9]+)\.(targets|snapshot|bins-[0-9a-f]+)\.json$`)

// Save writes the metadata files (the names of Files, without the
// "metadata/" directory) into dir, each atomically (temporary file and
// rename), timestamp.json last: until it is renamed, Load still sees
// the previous state. Files already holding the same bytes are left
// alone. Superseded targets, bin and snapshot versions are then removed;
// root versions are all kept.
func (r *Repo) Save(ctx context.Context, dir string) error {
	if !r.ready() || r.partial {
		return errNotReady
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("tufrepo: save: %w", err)
	}
	files := r.metaFiles()
	names := make([]string, 0, len(files))
	for n := range files {
		if n != RoleTimestamp+".json" {
			names = append(names, n)
		}
	}
	slices.SortFunc(names, func(a, b string) int { return saveOrder(a) - saveOrder(b) })
	names = append(names, RoleTimestamp+".json")
	for _, n := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		p, f := filepath.Join(dir, n), files[n]
		b, isBin := r.bins[f.bin]
		data, err := r.metaBytes(f)
		if err == nil && (!isBin || b.file != p) { // a bin's own file was just read back
			err = writeIfChanged(p, data)
		}
		if err != nil {
			return fmt.Errorf("tufrepo: save: %w", err)
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("tufrepo: save: %w", err)
	}
	for _, e := range ents {
		if _, current := files[e.Name()]; !current && versioned.MatchString(e.Name()) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("tufrepo: save: remove superseded %s: %w", e.Name(), err)
			}
		}
	}
	return nil
}

// saveOrder writes roots first, then bins, targets and snapshot.
func saveOrder(name string) int {
	switch {
	case versioned.MatchString(name):
		switch versioned.FindStringSubmatch(name)[2] {
		case RoleTargets:
			return 2
		case RoleSnapshot:
			return 3
		default:
			return 1
		}
	default:
		return 0
	}
}

// writeIfChanged writes data to path atomically unless path already
// holds exactly data.
func writeIfChanged(path string, data []byte) error {
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Size() == int64(len(data)) {
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
			return nil
		}
	}
	return atomicfile.WriteFile(path, data, 0o644)
}

// loadBins reads and verifies the bins snapshot lists, in parallel
// (it dominates a load), keeping only each bin's bytes and summary; a bin
// whose bytes the cache verified before is summarised from the cache.
func loadBins(ctx context.Context, dir string, targets *metadata.Metadata[metadata.TargetsType], names []string, meta map[string]*metadata.MetaFiles, cache *binCache) ([]binMeta, error) {
	bv := newBinVerifier(targets)
	bins := make([]binMeta, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(runtime.GOMAXPROCS(0), len(names)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if errs[i] = ctx.Err(); errs[i] != nil {
					continue
				}
				v := meta[names[i]+".json"].Version
				name := fmt.Sprintf("%d.%s.json", v, names[i])
				raw, err := readMeta(dir, name)
				if err != nil {
					errs[i] = err
					continue
				}
				if b, ok := cache.lookup(names[i], raw, v); ok {
					bins[i] = b // exactly the bytes verified before, under this delegation
				} else if bins[i], errs[i] = bv.load(raw, names[i], filepath.Join(dir, name), v); errs[i] == nil {
					cache.remember(names[i], raw, bins[i])
				}
				bins[i].spill(filepath.Join(dir, name))
			}
		}()
	}
	for i := range names {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return bins, nil
}

func binDelegatorName(r *Repo) string {
	if r.unclaimed.md != nil {
		return RoleUnclaimed
	}
	return RoleTargets
}

// loadDelegated loads the roles targets delegates to: in the current
// shape, every publisher role snapshot lists (terminating, in order) and
// then unclaimed, which delegates to the bins; in metadata from before
// publisher delegations, targets delegates to the bins itself (Legacy).
func (r *Repo) loadDelegated(dir string, meta map[string]*metadata.MetaFiles, snapName string) error {
	tfile := filepath.Join(dir, fmt.Sprintf("%d.targets.json", r.targets.md.Signed.Version))
	d := r.targets.md.Signed.Delegations
	if d == nil {
		return &MetadataError{File: tfile, Err: errors.New("targets delegates nothing")}
	}
	if d.SuccinctRoles != nil {
		return nil // legacy: targets → bins
	}
	n := len(d.Roles)
	if n == 0 || d.Roles[n-1].Name != RoleUnclaimed {
		return &MetadataError{File: tfile, Err: fmt.Errorf("targets must delegate to the publisher roles, then %s", RoleUnclaimed)}
	}
	for _, dr := range d.Roles[:n-1] {
		if !strings.HasPrefix(dr.Name, PublisherPrefix) || !dr.Terminating {
			return &MetadataError{File: tfile, Err: fmt.Errorf("delegated role %q: want a terminating %s<name> role", dr.Name, PublisherPrefix)}
		}
		// The newest version of the publisher's role in dir: snapshot's,
		// or one accepted since (ebpfrepo add --signed) that the next
		// build publishes.
		v := newestVersion(dir, dr.Name)
		if mf := meta[dr.Name+".json"]; mf != nil && mf.Version > v {
			v = mf.Version
		}
		if v == 0 {
			continue // granted, nothing signed yet
		}
		s, err := loadRole[metadata.TargetsType](dir, fmt.Sprintf("%d.%s.json", v, dr.Name), v, dr.Name, r.targets.md)
		if err != nil {
			return err
		}
		r.pubs[dr.Name] = s
	}
	um := meta[RoleUnclaimed+".json"]
	if um == nil {
		return &MetadataError{File: snapName, Err: fmt.Errorf("no %s.json entry", RoleUnclaimed)}
	}
	s, err := loadRole[metadata.TargetsType](dir, fmt.Sprintf("%d.%s.json", um.Version, RoleUnclaimed), um.Version, RoleUnclaimed, r.targets.md)
	if err != nil {
		return err
	}
	r.unclaimed = s
	return nil
}

// newestVersion is the highest N of the files N.<role>.json in dir (0:
// none).
func newestVersion(dir, role string) int64 {
	ents, _ := os.ReadDir(dir)
	var best int64
	for _, e := range ents {
		v, name, ok := strings.Cut(e.Name(), ".")
		if !ok || name != role+".json" {
			continue
		}
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > best && n < 1<<40 {
			best = n
		}
	}
	return best
}
