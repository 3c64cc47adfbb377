package gen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

// Defaults of Options.
const (
	DefaultN       = 10000
	DefaultPerName = 10
	DefaultMinSize = 10 << 10
	DefaultMaxSize = 200 << 10
	// SizeSkew shapes the distribution of artifact sizes between MinSize
	// and MaxSize: size = Min·(Max/Min)^(u^SizeSkew), u uniform in [0,1).
	// 2.5 gives a mean of about 37 KB for 10–200 KB, so 10,000 versions
	// weigh about 360 MB, like the Helm repository issue 6 measured.
	SizeSkew = 2.5
	// PayloadFile is the path of the payload inside every generated package.
	PayloadFile = "share/payload.dat"
)

// DefaultModTime is the modification time of every generated entry.
var DefaultModTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Options configure a generated repository. The zero value means
// defaults; Templates must be set (see LoadTemplates).
type Options struct {
	N         int        // package versions; 0 means DefaultN
	PerName   int        // versions per package name; 0 means DefaultPerName
	Seed      uint64     // seed of every random choice; 0 means 1
	MinSize   int        // smallest artifact aimed at, compressed bytes; 0 means DefaultMinSize
	MaxSize   int        // largest artifact aimed at; 0 means DefaultMaxSize
	Workers   int        // parallel writers; 0 means GOMAXPROCS
	ModTime   time.Time  // zero means DefaultModTime
	Templates []Template // the example packages to copy, used in turn by package name
}

func (o Options) withDefaults() Options {
	if o.N <= 0 {
		o.N = DefaultN
	}
	if o.PerName <= 0 {
		o.PerName = DefaultPerName
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.MinSize <= 0 {
		o.MinSize = DefaultMinSize
	}
	if o.MaxSize < o.MinSize {
		o.MaxSize = max(DefaultMaxSize, o.MinSize)
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.ModTime.IsZero() {
		o.ModTime = DefaultModTime
	}
	return o
}

// Spec is one package version of a generated repository.
type Spec struct {
	Index    int    // position in the plan; seeds the payload
	Name     string // package name, e.g. "ratelimiting-0042"
	Version  string // semantic version
	Template *Template
	Size     int // compressed size aimed at, bytes
}

// Plan returns the package versions opts describes, in order: PerName
// versions of each name, names numbered from 0, templates used in turn.
func Plan(opts Options) ([]Spec, error) {
	opts = opts.withDefaults()
	if len(opts.Templates) == 0 {
		return nil, errors.New("plan: no templates (see LoadTemplates)")
	}
	specs := make([]Spec, opts.N)
	for i := range specs {
		ni, vi := i/opts.PerName, i%opts.PerName
		specs[i] = spec(opts, i, fmt.Sprintf("%s-%04d", opts.Templates[ni%len(opts.Templates)].Base, ni), versionOf(vi, opts.PerName), &opts.Templates[ni%len(opts.Templates)])
	}
	return specs, nil
}

// Extra returns the k-th package version outside the plan (k from 0): a
// new package name, "extra-NNNN-<base>" at 1.0.0, for measuring what
// adding one package costs.
func Extra(opts Options, k int) (Spec, error) {
	opts = opts.withDefaults()
	if len(opts.Templates) == 0 {
		return Spec{}, errors.New("extra: no templates (see LoadTemplates)")
	}
	t := &opts.Templates[k%len(opts.Templates)]
	return spec(opts, opts.N+k, fmt.Sprintf("extra-%04d-%s", k, t.Base), "1.0.0", t), nil
}

func spec(opts Options, i int, name, version string, t *Template) Spec {
	r := rand.New(rand.NewPCG(opts.Seed, uint64(i)<<1))
	u := r.Float64()
	size := float64(opts.MinSize) * math.Pow(float64(opts.MaxSize)/float64(opts.MinSize), math.Pow(u, SizeSkew))
	return Spec{Index: i, Name: name, Version: version, Template: t, Size: int(size)}
}

// versionOf is the j-th of n versions of a name: 1.0.0 … 1.4.0, 2.0.0 …,
// the last of more than four a release candidate of the next major.
func versionOf(j, n int) string {
	if n > 4 && j == n-1 {
		return fmt.Sprintf("%d.0.0-rc.1", 1+j/5+1)
	}
	return fmt.Sprintf("%d.%d.0", 1+j/5, j%5)
}

// ArtifactName is the artifact file name of s: "l3af_<name>.tar.gz".
func (s Spec) ArtifactName() string { return "l3af_" + s.Name + ".tar.gz" }

// ChartName is the chart tarball file name of s: "<name>-<version>.tgz".
func (s Spec) ChartName() string { return s.Name + "-" + s.Version + ".tgz" }

// RelPath is where s's artifact lives under a repository's packages/.
func (s Spec) RelPath() string {
	return filepath.Join(s.Name, s.Version, s.ArtifactName())
}

// payload returns the payload of s: about 3·Size bytes less what the
// template's files weigh, which compresses about 3:1.
func (s Spec) payload(seed uint64) []byte {
	n := max(1024, 3*s.Size-s.Template.size())
	return Payload(rand.New(rand.NewPCG(seed, uint64(s.Index)<<1|1)), n)
}

// Manifest returns the manifest of s: the template's, renamed.
func (s Spec) Manifest() *pkgfmt.Manifest {
	t := s.Template.Manifest
	m := t
	m.Name, m.Version = s.Name, s.Version
	desc := fmt.Sprintf("Synthetic benchmark package %s, generated from the %s example", s.Name, s.Template.Base)
	if t.Description != "" {
		desc += ": " + t.Description
	}
	if len(desc) > pkgfmt.MaxDescriptionLen {
		desc = strings.TrimSpace(desc[:pkgfmt.MaxDescriptionLen-3]) + "..."
	}
	m.Description = desc
	m.Readme = "README.md"
	m.Source = "https://example.org/ebpfrepo-bench/" + s.Name
	m.Homepage = ""
	m.Keywords = append([]string{"bench"}, t.Keywords...)
	if len(m.Keywords) > pkgfmt.MaxKeywords {
		m.Keywords = m.Keywords[:pkgfmt.MaxKeywords]
	}
	m.Maintainers = []pkgfmt.Maintainer{{Name: "ebpfrepo bench", Email: "bench@example.org"}}
	m.Artifact = s.ArtifactName()
	return &m
}

func (s Spec) readme() []byte {
	return fmt.Appendf(nil, "# %s\n\nVersion %s of a synthetic package the ebpfrepo scale harness generated from the `%s` example.\n\n"+
		"It holds the example's objects and `%s`, a payload that makes the artifact a realistic size.\n",
		s.Name, s.Version, s.Template.Base, PayloadFile)
}

// Files returns the files of s's package: manifest, README, payload and
// the template's files.
func (s Spec) Files(seed uint64) ([]pkgfmt.File, error) {
	mf, err := pkgfmt.MarshalManifest(s.Manifest())
	if err != nil {
		return nil, fmt.Errorf("package %s@%s: manifest: %w", s.Name, s.Version, err)
	}
	files := []pkgfmt.File{
		{Path: pkgfmt.ManifestFile, Mode: 0o644, Data: mf},
		{Path: "README.md", Mode: 0o644, Data: s.readme()},
		{Path: PayloadFile, Mode: 0o644, Data: s.payload(seed)},
	}
	for _, f := range s.Template.Files {
		if strings.HasSuffix(f.Path, ".o") {
			f.Data = s.uniqueObject(f.Data)
		}
		files = append(files, f)
	}
	return files, nil
}

// uniqueObject returns the ELF object data with a trailer naming s after
// its end, where ELF readers look for nothing: the same programs, but
// bytes (and a digest) of its own, as every version of a real
// repository has, so that nothing keyed by an object's digest is shared
// between versions.
func (s Spec) uniqueObject(data []byte) []byte {
	out := make([]byte, 0, len(data)+64)
	out = append(out, data...)
	return fmt.Appendf(out, "\x00ebpfrepo-bench %s@%s\n", s.Name, s.Version)
}

// WriteArtifact writes s's artifact to w with pkgfmt.WriteArtifact.
func WriteArtifact(w io.Writer, s Spec, opts Options) error {
	opts = opts.withDefaults()
	files, err := s.Files(opts.Seed)
	if err != nil {
		return err
	}
	return pkgfmt.WriteArtifact(w, ".tar.gz", strings.TrimSuffix(s.ArtifactName(), ".tar.gz"), files, opts.ModTime)
}

// Stats counts what was written.
type Stats struct {
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"` // on disk (compressed)
}

// WritePackages writes the artifact of every planned version to
// packagesDir/<name>/<version>/<artifact>, opts.Workers at a time.
func WritePackages(ctx context.Context, packagesDir string, opts Options) (Stats, error) {
	opts = opts.withDefaults()
	specs, err := Plan(opts)
	if err != nil {
		return Stats{}, err
	}
	return writeAll(ctx, opts, specs, func(s Spec) string { return filepath.Join(packagesDir, s.RelPath()) },
		func(w io.Writer, s Spec) error {
			if err := WriteArtifact(w, s, opts); err != nil {
				return err
			}
			// The date ebpfrepo add records (repo: packages/<name>/<version>/added).
			_, err := WriteFile(filepath.Join(packagesDir, s.Name, s.Version, AddedFile), func(w io.Writer) error {
				_, err := io.WriteString(w, s.Added(opts).Format(time.RFC3339)+"\n")
				return err
			})
			return err
		})
}

// WriteCharts writes the Helm chart tarball of every planned version to
// dir/<name>-<version>.tgz, opts.Workers at a time.
func WriteCharts(ctx context.Context, dir string, opts Options) (Stats, error) {
	opts = opts.withDefaults()
	specs, err := Plan(opts)
	if err != nil {
		return Stats{}, err
	}
	return writeAll(ctx, opts, specs, func(s Spec) string { return filepath.Join(dir, s.ChartName()) },
		func(w io.Writer, s Spec) error { return WriteChart(w, s, opts) })
}

func writeAll(ctx context.Context, opts Options, specs []Spec, pathOf func(Spec) string, write func(io.Writer, Spec) error) (Stats, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		next  atomic.Int64
		files atomic.Int64
		bytes atomic.Int64
		wg    sync.WaitGroup
	)
	for range opts.Workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(specs) || ctx.Err() != nil {
					return
				}
				n, err := WriteFile(pathOf(specs[i]), func(w io.Writer) error { return write(w, specs[i]) })
				if err != nil {
					cancel(err)
					return
				}
				files.Add(1)
				bytes.Add(n)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return Stats{}, err
	}
	return Stats{Files: int(files.Load()), Bytes: bytes.Load()}, nil
}

// WriteFile writes path (creating its directory) through a temporary
// file renamed into place, and returns the number of bytes written.
func WriteFile(path string, write func(io.Writer) error) (n int64, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	cw := &countWriter{w: tmp}
	bw := bufio.NewWriterSize(cw, 128<<10)
	if err = write(bw); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if err = bw.Flush(); err != nil {
		return 0, err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return 0, err
	}
	if err = tmp.Close(); err != nil {
		return 0, err
	}
	return cw.n, os.Rename(tmp.Name(), path)
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// AddedFile is the file beside an artifact in which `ebpfrepo add`
// records when the version was added (RFC 3339).
const AddedFile = "added"

// Added is the date s was added: one minute after the previous version,
// starting at opts.ModTime.
func (s Spec) Added(opts Options) time.Time {
	return opts.withDefaults().ModTime.Add(time.Duration(s.Index) * time.Minute)
}
