package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ebpfrepo/ebpfrepo/bench/internal/clientcheck"
	"github.com/ebpfrepo/ebpfrepo/bench/internal/floor"
	"github.com/ebpfrepo/ebpfrepo/bench/internal/gen"
	"github.com/ebpfrepo/ebpfrepo/bench/internal/measure"
)

// SizeResult is what was measured for one repository size. Summaries
// with zero runs were not measured (see Errors).
type SizeResult struct {
	N             int     `json:"versions"`
	Runs          int     `json:"runs"`
	Names         int     `json:"packages"`
	ArtifactBytes int64   `json:"artifact_bytes"`
	Uncompressed  int64   `json:"uncompressed_bytes"`
	ChartBytes    int64   `json:"chart_bytes"`
	GenSeconds    float64 `json:"gen_seconds,omitempty"` // 0: reused from an earlier run

	ColdBuild   measure.Summary `json:"cold_build"`
	NoopBuild   measure.Summary `json:"noop_build"`
	Add         measure.Summary `json:"add_one"`
	Incremental measure.Summary `json:"incremental_build"`
	// AfterCold is the add-one build directly after the last cold build,
	// as a CI job whose cache was lost runs it: no spare tree yet.
	AfterCold measure.Summary `json:"incremental_after_cold"`
	// AfterRestore is the add-one build in a copy of the repository made
	// with cp -a, as a CI job restores its cache: same content, new
	// inodes.
	AfterRestore measure.Summary `json:"incremental_after_restore"`
	Timestamp    measure.Summary `json:"timestamp"`
	Floor        measure.Summary `json:"floor"`
	ChartFloor   measure.Summary `json:"chart_floor"`
	HelmFull     measure.Summary `json:"helm_full"`
	HelmMerge    measure.Summary `json:"helm_merge"`

	BuildJSON       *buildSummary `json:"cold_build_summary,omitempty"` // --json of the last cold build
	IncrementalJSON *buildSummary `json:"incremental_build_summary,omitempty"`
	NoopJSON        *buildSummary `json:"noop_build_summary,omitempty"`
	HelmIndexBytes  int64         `json:"helm_index_bytes,omitempty"`
	Output          outputStats   `json:"output"`

	Client *clientcheck.Result `json:"client,omitempty"`
	// ClaimedClient is the cold get of a package granted to a publisher
	// (its artifacts in pub-<publisher>.json, not in a bin).
	ClaimedClient *clientcheck.Result `json:"claimed_client,omitempty"`
	Errors        []string            `json:"errors,omitempty"`
}

// buildSummary is the part of `ebpfrepo build --json` the report uses.
type buildSummary struct {
	Versions    int      `json:"versions"`
	Hashed      int      `json:"hashed"`
	Validated   int      `json:"validated"`
	Cached      int      `json:"cached"`
	RolesSigned []string `json:"roles_signed"`
	BinsSigned  int      `json:"bins_signed"`
	Bins        int      `json:"bins"`
	Phases      []struct {
		Name    string  `json:"name"`
		Seconds float64 `json:"seconds"`
	} `json:"phases"`
	Seconds float64 `json:"seconds"`
}

// outputStats describes the published directory.
type outputStats struct {
	Files         int   `json:"files"`
	MetadataFiles int   `json:"metadata_files"`
	MetadataBytes int64 `json:"metadata_bytes"`
	Timestamp     int64 `json:"timestamp_bytes"`
	Snapshot      int64 `json:"snapshot_bytes"` // newest N.snapshot.json
	Summary       int64 `json:"summary_bytes"`  // targets/index/*all.json (the newest)
}

// stamp identifies the inputs of a generated repository: when they are
// unchanged, the repository is reused.
type stamp struct {
	Format    int      `json:"format"`
	N         int      `json:"n"`
	PerName   int      `json:"per_name"`
	Seed      uint64   `json:"seed"`
	Templates []string `json:"templates"` // base and sha256 of the files
}

// genFormat changes whenever the generator's output changes.
const genFormat = 4

func stampOf(opts gen.Options) stamp {
	s := stamp{Format: genFormat, N: opts.N, PerName: gen.DefaultPerName, Seed: opts.Seed}
	for _, t := range opts.Templates {
		h := sha256.New()
		m, _ := json.Marshal(t.Manifest)
		h.Write(m)
		for _, f := range t.Files {
			fmt.Fprintf(h, "%s %o %d\n", f.Path, f.Mode, len(f.Data))
			h.Write(f.Data)
		}
		s.Templates = append(s.Templates, t.Base+" "+hex.EncodeToString(h.Sum(nil))[:16])
	}
	return s
}

func measureSize(ctx context.Context, cfg config, opts gen.Options) *SizeResult {
	n := opts.N
	sr := &SizeResult{N: n, Runs: cfg.runs, Names: (n + gen.DefaultPerName - 1) / gen.DefaultPerName}
	var errs errList
	defer func() { sr.Errors = errs }()
	dir := filepath.Join(cfg.out, fmt.Sprintf("n%d", n))
	repoDir := filepath.Join(dir, "repo")
	charts := filepath.Join(dir, "charts")
	r := runner{cfg: cfg, env: []string{
		"HELM_CACHE_HOME=" + filepath.Join(dir, "helm-home", "cache"),
		"HELM_CONFIG_HOME=" + filepath.Join(dir, "helm-home", "config"),
		"HELM_DATA_HOME=" + filepath.Join(dir, "helm-home", "data"),
	}}
	eb := cfg.ebpfrepo

	logf("n=%d: preparing %s", n, dir)
	if err := generate(ctx, cfg, opts, dir, repoDir, charts, r, sr); errs.add(fmt.Sprintf("n=%d generate", n), err) {
		return sr
	}
	if cfg.genOnly {
		return sr
	}
	// Extra packages and charts of earlier runs go, so that every cold
	// build sees exactly n versions.
	extras, _ := filepath.Glob(filepath.Join(repoDir, "packages", "extra-*"))
	moreExtras, _ := filepath.Glob(filepath.Join(charts, "extra-*"))
	for _, p := range append(extras, moreExtras...) {
		os.RemoveAll(p)
	}

	// Cold full builds: no description cache, no previous output.
	var cold, noop, add, incr, ts []measure.Result
	for i := range cfg.runs {
		if err := cleanOutput(cfg.out, repoDir); errs.add("clean", err) {
			return sr
		}
		if err := resetMetadata(dir, repoDir); errs.add("reset metadata", err) {
			return sr
		}
		logf("n=%d: cold build %d/%d", n, i+1, cfg.runs)
		res, err := r.run(ctx, eb, "build", "--repo", repoDir, "--json")
		if errs.add(fmt.Sprintf("n=%d cold build", n), err) {
			break
		}
		cold = append(cold, res)
		sr.BuildJSON = parseBuild(res.Stdout)
	}
	sr.ColdBuild = measure.Summarize(cold)
	built := len(cold) > 0
	if built {
		// Add one directly after the cold build, as CI would (kept: the
		// no-op builds below see the same n+1 versions).
		if extra, err := gen.Extra(opts, 100); !errs.add("extra", err) {
			art := filepath.Join(dir, "extra", extra.ArtifactName())
			if _, err := gen.WriteFile(art, func(w io.Writer) error { return gen.WriteArtifact(w, extra, opts) }); !errs.add("extra", err) {
				logf("n=%d: add one package directly after the cold build", n)
				if _, err := r.run(ctx, eb, "add", "--repo", repoDir, art); !errs.add(fmt.Sprintf("n=%d add after cold", n), err) {
					res, err := r.run(ctx, eb, "build", "--repo", repoDir, "--json")
					if !errs.add(fmt.Sprintf("n=%d build after cold", n), err) {
						sr.AfterCold = measure.Summarize([]measure.Result{res})
					}
				}
			}
		}
		sr.Output = outputOf(filepath.Join(repoDir, "public"))
		for i := range cfg.runs {
			logf("n=%d: rebuild with nothing changed %d/%d", n, i+1, cfg.runs)
			res, err := r.run(ctx, eb, "build", "--repo", repoDir, "--json")
			if errs.add(fmt.Sprintf("n=%d no-op build", n), err) {
				break
			}
			noop = append(noop, res)
			sr.NoopJSON = parseBuild(res.Stdout)
		}
		for i := range cfg.runs {
			extra, err := gen.Extra(opts, i)
			if errs.add("extra", err) {
				break
			}
			art := filepath.Join(dir, "extra", extra.ArtifactName())
			if _, err := gen.WriteFile(art, func(w io.Writer) error { return gen.WriteArtifact(w, extra, opts) }); errs.add("extra", err) {
				break
			}
			logf("n=%d: add one package + incremental build %d/%d", n, i+1, cfg.runs)
			res, err := r.run(ctx, eb, "add", "--repo", repoDir, art)
			if errs.add(fmt.Sprintf("n=%d add", n), err) {
				break
			}
			add = append(add, res)
			res, err = r.run(ctx, eb, "build", "--repo", repoDir, "--json")
			if errs.add(fmt.Sprintf("n=%d incremental build", n), err) {
				break
			}
			incr = append(incr, res)
			sr.IncrementalJSON = parseBuild(res.Stdout)
		}
		sr.AfterRestore = afterRestore(ctx, r, eb, opts, dir, repoDir, &errs)
		for i := range cfg.runs {
			logf("n=%d: timestamp %d/%d", n, i+1, cfg.runs)
			res, err := r.run(ctx, eb, "timestamp", "--repo", repoDir)
			if errs.add(fmt.Sprintf("n=%d timestamp", n), err) {
				break
			}
			ts = append(ts, res)
		}
		logf("n=%d: client cold get and warm check", n)
		sr.Client, _ = clientRun(ctx, opts, repoDir, &errs)
		logf("n=%d: client cold get of a publisher-signed package", n)
		sr.ClaimedClient, _ = claimedClientRun(ctx, r, eb, opts, dir, repoDir, &errs)
	}
	sr.NoopBuild, sr.Add, sr.Incremental, sr.Timestamp = measure.Summarize(noop), measure.Summarize(add), measure.Summarize(incr), measure.Summarize(ts)

	// The floor over the same artifact bytes (the extras included: the
	// last build read them too, but they are 0.03% of 10,000).
	sr.Floor = floorRuns(ctx, cfg, r, filepath.Join(repoDir, "packages"), sr, &errs, "floor")
	if cfg.helm == "" {
		errs.add("helm", fmt.Errorf("%w: no helm binary (bench/run.sh installs helm.sh/helm/v3/cmd/helm@v3.22.0)", errSkipped))
		return sr
	}
	measureHelm(ctx, cfg, r, opts, dir, charts, sr, &errs)
	return sr
}

// afterRestore measures the add-one build in a copy of the repository
// made as a CI cache restore makes it (cp -a: the content, hard links and
// times kept, every inode new); the copy is removed after.
func afterRestore(ctx context.Context, r runner, eb string, opts gen.Options, dir, repoDir string, errs *errList) measure.Summary {
	n := opts.N
	restored := filepath.Join(dir, "restored")
	discard(r.cfg.out, restored)
	defer discard(r.cfg.out, restored)
	logf("n=%d: copy the repository as a CI cache restore would (cp -a)", n)
	if out, err := exec.CommandContext(ctx, "cp", "-a", repoDir, restored).CombinedOutput(); err != nil {
		errs.add("restore", fmt.Errorf("cp -a: %w: %s", err, out))
		return measure.Summary{}
	}
	extra, err := gen.Extra(opts, 200)
	if errs.add("extra", err) {
		return measure.Summary{}
	}
	art := filepath.Join(dir, "extra", extra.ArtifactName())
	if _, err := gen.WriteFile(art, func(w io.Writer) error { return gen.WriteArtifact(w, extra, opts) }); errs.add("extra", err) {
		return measure.Summary{}
	}
	if _, err := r.run(ctx, eb, "add", "--repo", restored, art); errs.add(fmt.Sprintf("n=%d add after restore", n), err) {
		return measure.Summary{}
	}
	logf("n=%d: add one + build after the restore", n)
	res, err := r.run(ctx, eb, "build", "--repo", restored, "--json")
	if errs.add(fmt.Sprintf("n=%d build after restore", n), err) {
		return measure.Summary{}
	}
	return measure.Summarize([]measure.Result{res})
}

// measureHelm times helm repo index, full and --merge after adding one
// chart, and the floor over the charts' bytes.
func measureHelm(ctx context.Context, cfg config, r runner, opts gen.Options, dir, charts string, sr *SizeResult, errs *errList) {
	n := opts.N
	var full, merge []measure.Result
	index := filepath.Join(charts, "index.yaml")
	for i := range cfg.runs {
		os.Remove(index)
		logf("n=%d: helm repo index %d/%d", n, i+1, cfg.runs)
		res, err := r.run(ctx, cfg.helm, "repo", "index", charts)
		if errs.add(fmt.Sprintf("n=%d helm repo index", n), err) {
			break
		}
		full = append(full, res)
	}
	if fi, err := os.Stat(index); err == nil && len(full) > 0 {
		sr.HelmIndexBytes = fi.Size()
		base := filepath.Join(dir, "helm-merge-base.yaml")
		if errs.add("helm merge base", copyFile(index, base)) {
			return
		}
		for i := range cfg.runs {
			extra, err := gen.Extra(opts, i)
			if errs.add("extra chart", err) {
				break
			}
			chart := filepath.Join(charts, extra.ChartName())
			if _, err := gen.WriteFile(chart, func(w io.Writer) error { return gen.WriteChart(w, extra, opts) }); errs.add("extra chart", err) {
				break
			}
			logf("n=%d: helm repo index --merge after adding one chart %d/%d", n, i+1, cfg.runs)
			res, err := r.run(ctx, cfg.helm, "repo", "index", charts, "--merge", base)
			os.Remove(chart)
			if errs.add(fmt.Sprintf("n=%d helm repo index --merge", n), err) {
				break
			}
			merge = append(merge, res)
		}
	}
	sr.HelmFull, sr.HelmMerge = measure.Summarize(full), measure.Summarize(merge)
	sr.ChartFloor = floorRuns(ctx, cfg, r, charts, sr, errs, "chart floor")
}

// generate makes (or reuses) the repository and the charts of opts.
func generate(ctx context.Context, cfg config, opts gen.Options, dir, repoDir, charts string, r runner, sr *SizeResult) error {
	want, _ := json.Marshal(stampOf(opts))
	stampFile := filepath.Join(dir, "stamp.json")
	if got, err := os.ReadFile(stampFile); err == nil && bytes.Equal(got, want) {
		logf("n=%d: reusing the repository generated earlier (%s)", opts.N, stampFile)
		return sizeOf(repoDir, charts, sr)
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	start := time.Now()
	if _, err := r.run(ctx, cfg.ebpfrepo, "init", repoDir, "--name", fmt.Sprintf("bench-%d", opts.N)); err != nil {
		return err
	}
	// The TUF metadata as init left it: every cold build starts from it.
	if err := copyDir(filepath.Join(repoDir, "metadata"), filepath.Join(dir, "metadata-init")); err != nil {
		return err
	}
	logf("n=%d: generating %d package versions", opts.N, opts.N)
	if _, err := gen.WritePackages(ctx, filepath.Join(repoDir, "packages"), opts); err != nil {
		return err
	}
	logf("n=%d: generating %d Helm charts", opts.N, opts.N)
	if _, err := gen.WriteCharts(ctx, charts, opts); err != nil {
		return err
	}
	sr.GenSeconds = time.Since(start).Seconds()
	logf("n=%d: generated in %.1f s", opts.N, sr.GenSeconds)
	if err := os.WriteFile(stampFile, want, 0o644); err != nil {
		return err
	}
	return sizeOf(repoDir, charts, sr)
}

func sizeOf(repoDir, charts string, sr *SizeResult) error {
	for _, x := range []struct {
		dir string
		n   *int64
	}{{filepath.Join(repoDir, "packages"), &sr.ArtifactBytes}, {charts, &sr.ChartBytes}} {
		ps, err := floor.Find(x.dir, floor.Suffixes)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if fi, err := os.Stat(p); err == nil {
				*x.n += fi.Size()
			}
		}
	}
	return nil
}

func floorRuns(ctx context.Context, cfg config, r runner, dir string, sr *SizeResult, errs *errList, step string) measure.Summary {
	var rs []measure.Result
	for i := range cfg.runs {
		logf("n=%d: %s %d/%d", sr.N, step, i+1, cfg.runs)
		res, err := r.run(ctx, filepath.Join(cfg.bin, "floor"), "-json", dir)
		if errs.add(fmt.Sprintf("n=%d %s", sr.N, step), err) {
			break
		}
		rs = append(rs, res)
		var fr floor.Result
		if json.Unmarshal(res.Stdout, &fr) == nil && step == "floor" {
			sr.Uncompressed = fr.Uncompressed
		}
	}
	return measure.Summarize(rs)
}

func parseBuild(out []byte) *buildSummary {
	var b buildSummary
	if err := json.Unmarshal(bytes.TrimSpace(out), &b); err != nil {
		return nil
	}
	return &b
}

// clientRun measures the client against the built output: a package in
// the middle of the plan, its first platform.
func clientRun(ctx context.Context, opts gen.Options, repoDir string, errs *errList) (*clientcheck.Result, error) {
	specs, err := gen.Plan(opts)
	if errs.add("client", err) {
		return nil, err
	}
	s := specs[len(specs)/2]
	pub := filepath.Join(repoDir, "public")
	var root []byte
	for _, p := range []string{filepath.Join(pub, "metadata", "1.root.json"), filepath.Join(repoDir, "metadata", "1.root.json")} {
		if root, err = os.ReadFile(p); err == nil {
			break
		}
	}
	if errs.add("client: root", err) {
		return nil, err
	}
	res, err := clientcheck.Run(ctx, clientcheck.Options{PublicDir: pub, Root: root, Name: s.Name, Platform: s.Manifest().Platforms[0]})
	if errs.add(fmt.Sprintf("n=%d client", opts.N), err) {
		return nil, err
	}
	return res, nil
}

// outputOf describes a published directory.
func outputOf(pub string) outputStats {
	var o outputStats
	var newestSnap, newestAll time.Time
	filepath.WalkDir(pub, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		o.Files++
		rel, _ := filepath.Rel(pub, p)
		rel = filepath.ToSlash(rel)
		switch {
		case strings.HasPrefix(rel, "metadata/"):
			o.MetadataFiles++
			o.MetadataBytes += fi.Size()
			switch {
			case d.Name() == "timestamp.json":
				o.Timestamp = fi.Size()
			case strings.HasSuffix(d.Name(), ".snapshot.json") && !fi.ModTime().Before(newestSnap):
				newestSnap, o.Snapshot = fi.ModTime(), fi.Size()
			}
		case strings.HasPrefix(rel, "targets/index/") && strings.HasSuffix(rel, "all.json") && !fi.ModTime().Before(newestAll):
			newestAll, o.Summary = fi.ModTime(), fi.Size()
		}
		return nil
	})
	return o
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}

// resetMetadata puts back the TUF metadata of record as `ebpfrepo init`
// left it, so that a cold build signs every role and bin, as the first
// build of a repository does.
func resetMetadata(dir, repoDir string) error {
	saved := filepath.Join(dir, "metadata-init")
	if _, err := os.Stat(saved); err != nil {
		return fmt.Errorf("%s: %w (regenerate: delete %s)", saved, err, dir)
	}
	md := filepath.Join(repoDir, "metadata")
	if err := os.RemoveAll(md); err != nil {
		return err
	}
	return copyDir(saved, md)
}

// copyDir copies the regular files of src (one level) into dst.
func copyDir(src, dst string) error {
	es, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, e := range es {
		if e.Type().IsRegular() {
			if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// cleanOutput removes what a previous build left for the next one: the
// caches (.cache), the output (public) and whatever the build keeps
// beside it to reuse (.public.*, e.g. the spare tree and its manifests).
func cleanOutput(out, repoDir string) error {
	paths, err := filepath.Glob(filepath.Join(repoDir, ".public*"))
	if err != nil {
		return err
	}
	return discard(out, append(paths, filepath.Join(repoDir, ".cache"), filepath.Join(repoDir, "public"))...)
}

// claimedClientRun grants one package to a publisher (a key made here),
// signs its artifacts as that publisher, adds the role, builds, and
// measures a cold get of the package. The next cold build's metadata reset
// removes the grant.
func claimedClientRun(ctx context.Context, r runner, eb string, opts gen.Options, dir, repoDir string, errs *errList) (*clientcheck.Result, error) {
	specs, err := gen.Plan(opts)
	if errs.add("claimed client", err) {
		return nil, err
	}
	s := specs[len(specs)/3]
	keys := filepath.Join(dir, "publisher-key")
	os.RemoveAll(keys)
	arts, _ := filepath.Glob(filepath.Join(repoDir, "packages", s.Name, "*", "*.tar.gz"))
	role := filepath.Join(dir, "pub-bench.json")
	for _, args := range [][]string{
		{"publisher", "keygen", "-o", keys},
		{"publisher", "add", "--repo", repoDir, "bench", "--key", filepath.Join(keys, "publisher.pub.pem"), "--package", s.Name},
		append([]string{"sign", "--publisher", "bench", "--key", filepath.Join(keys, "publisher.pem"), "--repo", repoDir, "-o", dir}, arts...),
		append([]string{"add", "--repo", repoDir, "--signed", role}, arts...),
		{"build", "--repo", repoDir},
	} {
		if _, err := r.run(ctx, append([]string{eb}, args...)...); errs.add(fmt.Sprintf("claimed client: %s", args[0]), err) {
			return nil, err
		}
	}
	root, err := os.ReadFile(filepath.Join(repoDir, "public", "metadata", "1.root.json"))
	if errs.add("claimed client: root", err) {
		return nil, err
	}
	res, err := clientcheck.Run(ctx, clientcheck.Options{PublicDir: filepath.Join(repoDir, "public"), Root: root, Name: s.Name, Platform: s.Manifest().Platforms[0]})
	if errs.add(fmt.Sprintf("n=%d claimed client", opts.N), err) {
		return nil, err
	}
	return res, nil
}
