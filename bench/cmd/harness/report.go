package main

import (
	"fmt"
	"strings"

	"github.com/ebpfrepo/ebpfrepo/bench/internal/gen"
	"github.com/ebpfrepo/ebpfrepo/bench/internal/measure"
)

const na = "—"

func secs(s measure.Summary) string {
	if s.Runs == 0 {
		return na
	}
	if s.Seconds < 1 {
		return fmt.Sprintf("%.3f s", s.Seconds)
	}
	return fmt.Sprintf("%.2f s", s.Seconds)
}

func secsRSS(s measure.Summary) string {
	if s.Runs == 0 {
		return na
	}
	return fmt.Sprintf("%s%s, %.0f MiB", secs(s), spread(s), s.RSSMiB)
}

// spread is the range of several runs when it is wide (over 20 % of the
// median), a sign of a noisy machine.
func spread(s measure.Summary) string {
	if s.Runs < 2 || s.Seconds == 0 || (s.Max-s.Min)/s.Seconds <= 0.2 {
		return ""
	}
	return fmt.Sprintf(" [%.2f–%.2f]", s.Min, s.Max)
}

func ratio(a, b measure.Summary) (float64, bool) {
	if a.Runs == 0 || b.Runs == 0 || b.Seconds == 0 {
		return 0, false
	}
	return a.Seconds / b.Seconds, true
}

func ratioStr(a, b measure.Summary) string {
	if r, ok := ratio(a, b); ok {
		return fmt.Sprintf("%.2f×", r)
	}
	return na
}

func mb(n int64) string {
	if n == 0 {
		return na
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

func kb(n int64) string { return fmt.Sprintf("%.1f KB", float64(n)/1e3) }

func count(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// rows is the table: a measure per row, a size per column.
func rows(rep *Report) [][]string {
	head := []string{"measure"}
	for _, s := range rep.Sizes {
		head = append(head, count(s.N)+" versions")
	}
	out := [][]string{head}
	add := func(label string, f func(*SizeResult) string) {
		row := []string{label}
		for _, s := range rep.Sizes {
			row = append(row, f(s))
		}
		out = append(out, row)
	}
	add("runs (times are medians)", func(s *SizeResult) string { return fmt.Sprint(s.Runs) })
	add("packages × versions", func(s *SizeResult) string { return fmt.Sprintf("%s × %d", count(s.Names), gen.DefaultPerName) })
	add("artifacts: compressed / unpacked", func(s *SizeResult) string { return mb(s.ArtifactBytes) + " / " + mb(s.Uncompressed) })
	add("**cold full build** (peak RSS)", func(s *SizeResult) string { return secsRSS(s.ColdBuild) })
	add("cold build CPU time (cores busy)", func(s *SizeResult) string { return cpu(s.ColdBuild) })
	add("floor: sha256 + gunzip/untar, all cores", func(s *SizeResult) string { return secsRSS(s.Floor) })
	add("floor CPU time (cores busy)", func(s *SizeResult) string { return cpu(s.Floor) })
	add("**build / floor**", func(s *SizeResult) string { return ratioStr(s.ColdBuild, s.Floor) })
	add("rebuild, nothing changed", func(s *SizeResult) string { return secsRSS(s.NoopBuild) })
	add("`ebpfrepo add` one package", func(s *SizeResult) string { return secs(s.Add) })
	add("**incremental build** after adding one", func(s *SizeResult) string { return secsRSS(s.Incremental) })
	add("add one + build **directly after a cold build** (no spare tree yet)", func(s *SizeResult) string { return secsRSS(s.AfterCold) })
	add("add one + build **after a CI cache restore** (cp -a: new inodes)", func(s *SizeResult) string { return secsRSS(s.AfterRestore) })
	add("**incremental / cold build**", func(s *SizeResult) string {
		if r, ok := ratio(s.Incremental, s.ColdBuild); ok {
			return fmt.Sprintf("%.1f %%", 100*r)
		}
		return na
	})
	add("`ebpfrepo timestamp`", func(s *SizeResult) string { return secsRSS(s.Timestamp) })
	add("`helm repo index` full (peak RSS)", func(s *SizeResult) string { return secsRSS(s.HelmFull) })
	add("`helm repo index --merge` after adding one", func(s *SizeResult) string { return secsRSS(s.HelmMerge) })
	add("**helm full / cold build**", func(s *SizeResult) string { return ratioStr(s.HelmFull, s.ColdBuild) })
	add("helm merge / incremental build", func(s *SizeResult) string { return ratioStr(s.HelmMerge, s.Incremental) })
	add("chart floor (same bytes as charts) / helm / floor", func(s *SizeResult) string {
		return secs(s.ChartFloor) + " / " + ratioStr(s.HelmFull, s.ChartFloor)
	})
	add("index: helm index.yaml / ebpfrepo index/all.json", func(s *SizeResult) string {
		h, a := na, na
		if s.HelmIndexBytes > 0 {
			h = mb(s.HelmIndexBytes)
		}
		if s.Output.Summary > 0 {
			a = kb(s.Output.Summary)
		}
		return h + " / " + a
	})
	add("TUF metadata: files, bytes (timestamp, snapshot)", func(s *SizeResult) string {
		if s.Output.MetadataFiles == 0 {
			return na
		}
		return fmt.Sprintf("%d, %s (%s, %s)", s.Output.MetadataFiles, mb(s.Output.MetadataBytes), kb(s.Output.Timestamp), kb(s.Output.Snapshot))
	})
	add("**client cold get**: requests; metadata + index; artifact", func(s *SizeResult) string {
		if s.Client == nil {
			return na
		}
		c := s.Client.Cold
		return fmt.Sprintf("%d; %s + %s; %s", c.Requests, kb(c.Metadata), kb(c.Index), kb(c.Artifact))
	})
	add("**client cold get, publisher-signed package**: requests; metadata + index; artifact", func(s *SizeResult) string {
		if s.ClaimedClient == nil {
			return na
		}
		c := s.ClaimedClient.Cold
		return fmt.Sprintf("%d; %s + %s; %s", c.Requests, kb(c.Metadata), kb(c.Index), kb(c.Artifact))
	})
	add("**client warm check**, nothing new: requests; bytes", func(s *SizeResult) string {
		if s.Client == nil {
			return na
		}
		w := s.Client.Warm
		return fmt.Sprintf("%d; %s", w.Requests, kb(w.Bytes))
	})
	add("generation (this run)", func(s *SizeResult) string {
		if s.GenSeconds == 0 {
			return "reused"
		}
		return fmt.Sprintf("%.0f s", s.GenSeconds)
	})
	return out
}

// renderTable renders the table as aligned text for the terminal.
func renderTable(rep *Report) string {
	rs := rows(rep)
	width := make([]int, len(rs[0]))
	clean := func(s string) string { return strings.NewReplacer("**", "", "`", "").Replace(s) }
	for _, r := range rs {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(clean(c))))
		}
	}
	var b strings.Builder
	for _, r := range rs {
		for i, c := range r {
			c = clean(c)
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			if i == 0 {
				b.WriteString(c + pad)
			} else {
				b.WriteString("  " + pad + c)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func renderMarkdownTable(rs [][]string) string {
	var b strings.Builder
	for i, r := range rs {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
		if i == 0 {
			b.WriteString("|---" + strings.Repeat("|--:", len(r)-1) + "|\n")
		}
	}
	return b.String()
}

// target is one goal of issue 6 and whether it was met.
type target struct {
	Goal, Measured, Status string
}

// status words a goal's outcome.
func status(ok, measured bool) string {
	switch {
	case !measured:
		return "not measured"
	case ok:
		return "**met**"
	}
	return "**not met**"
}

// resultAt is the result at n versions, or nil.
func resultAt(rep *Report, n int) *SizeResult {
	for _, x := range rep.Sizes {
		if x.N == n {
			return x
		}
	}
	return nil
}

// targets100k evaluates issue 14's goals at 100,000 versions, against
// the 10,000 of the same run: a cold build that grows linearly (≤ 11×),
// peak RSS ≤ 300 MB, a cold get ≤ 150 KB of metadata and index, and the
// add-one time.
func targets100k(rep *Report) []target {
	big, ten := resultAt(rep, 100000), resultAt(rep, 10000)
	if big == nil {
		return nil
	}
	var ts []target
	if ten != nil {
		r, ok := ratio(big.ColdBuild, ten.ColdBuild)
		ts = append(ts, target{"cold build at 100,000 ≤ 11× the one at 10,000 (same run)", fmt.Sprintf("%.2f× (%s against %s)", r, secs(big.ColdBuild), secs(ten.ColdBuild)), status(r <= 11, ok)})
	}
	rss := big.ColdBuild.RSSMiB * (1 << 20)
	ts = append(ts, target{"cold build peak RSS ≤ 300 MB", fmt.Sprintf("%.0f MB", rss/1e6), status(rss <= 300e6, big.ColdBuild.Runs > 0)})
	if c := big.Client; c != nil {
		mi := c.Cold.MetadataAndIndex()
		ts = append(ts, target{"cold `get`: ≤ 150 KB of metadata and index", fmt.Sprintf("%s in %d requests", kb(mi), c.Cold.Requests), status(mi <= 150e3, true)})
	}
	if r, ok := ratio(big.Incremental, big.ColdBuild); ok {
		ts = append(ts, target{"add one + build (reported)", fmt.Sprintf("%s (%.1f %% of cold)", secs(big.Incremental), 100*r), "measured"})
	}
	return ts
}

// targets evaluates issue 14's goals at 10,000 versions (where the issue
// states them), else at the largest size measured.
func targets(rep *Report) (int, []target) {
	if len(rep.Sizes) == 0 {
		return 0, nil
	}
	s := resultAt(rep, 10000)
	if s == nil {
		s = rep.Sizes[0]
		for _, x := range rep.Sizes {
			if x.N > s.N {
				s = x
			}
		}
	}
	var ts []target
	r, ok := ratio(s.ColdBuild, s.HelmFull)
	ts = append(ts, target{"cold full build ≤ 0.5× `helm repo index` (same run)", fmt.Sprintf("%.2f×", r), status(r <= 0.5, ok)})
	r, ok = ratio(s.ColdBuild, s.Floor)
	ts = append(ts, target{"cold full build ≤ 1.5× the floor", fmt.Sprintf("%.2f×", r), status(r <= 1.5, ok)})
	r, ok = ratio(s.Incremental, s.ColdBuild)
	ts = append(ts, target{"incremental build after adding one package ≤ 2 % of a full build", fmt.Sprintf("%.1f %% (%s; `add` itself %s)", 100*r, secs(s.Incremental), secs(s.Add)), status(r <= 0.02, ok)})
	r, ok = ratio(s.AfterCold, s.ColdBuild)
	ts = append(ts, target{"add one + build directly after a cold build ≤ 2 % of a full build", fmt.Sprintf("%.1f %% (%s)", 100*r, secs(s.AfterCold)), status(r <= 0.02, ok)})
	r, ok = ratio(s.AfterRestore, s.ColdBuild)
	ts = append(ts, target{"add one + build after a CI cache restore ≤ 2 % of a full build", fmt.Sprintf("%.1f %% (%s)", 100*r, secs(s.AfterRestore)), status(r <= 0.02, ok)})
	r, ok = ratio(s.NoopBuild, s.ColdBuild)
	ts = append(ts, target{"rebuild, nothing changed ≤ 1 % of a full build", fmt.Sprintf("%.1f %% (%s)", 100*r, secs(s.NoopBuild)), status(r <= 0.01, ok)})
	for _, m := range []struct {
		what string
		s    measure.Summary
	}{{"build", s.ColdBuild}, {"incremental build", s.Incremental}, {"add", s.Add}, {"timestamp", s.Timestamp}} {
		rss := m.s.RSSMiB * (1 << 20)
		ts = append(ts, target{m.what + " peak RSS ≤ 100 MB", fmt.Sprintf("%.0f MB", rss/1e6), status(rss <= 100e6, m.s.Runs > 0)})
	}
	if c := s.Client; c != nil {
		mi := c.Cold.MetadataAndIndex()
		ts = append(ts, target{"cold `get`: ≤ 100 KB of metadata and index", fmt.Sprintf("%s in %d requests (+ %s artifact)", kb(mi), c.Cold.Requests, kb(c.Cold.Artifact)), status(mi <= 100e3, true)})
		w := c.Warm
		var paths []string
		for _, r := range w.Log {
			paths = append(paths, fmt.Sprintf("%s %d", r.Path, r.Status))
		}
		ts = append(ts, target{"warm check, nothing new: one request of ≤ 2 KB", fmt.Sprintf("%d requests, %s (%s)", w.Requests, kb(w.Bytes), strings.Join(paths, ", ")), status(w.Requests == 1 && w.Bytes <= 2e3, true)})
	} else {
		ts = append(ts, target{"cold `get`: ≤ 100 KB of metadata and index", na, status(false, false)},
			target{"warm check, nothing new: one request of ≤ 2 KB", na, status(false, false)})
	}
	return s.N, ts
}

func renderMarkdown(rep *Report, _ string) string {
	var b strings.Builder
	m := rep.Machine
	b.WriteString("# Benchmark results\n\n")
	b.WriteString("Written by `make bench` (bench/run.sh); see [docs/performance.md](../docs/performance.md) for what is measured and how to read it. Do not edit by hand.\n\n")
	fmt.Fprintf(&b, "- Date: %s\n- Machine: %s, %d cores, %s RAM, kernel %s (%s)\n- Go: %s", m.Date, m.CPU, m.Cores, m.MemTotal, m.Kernel, m.OS, m.Go)
	if m.Helm != "" {
		fmt.Fprintf(&b, "; helm %s", m.Helm)
	}
	if m.Commit != "" {
		fmt.Fprintf(&b, "; ebpfrepo %s", m.Commit)
	}
	var runs []string
	for _, s := range rep.Sizes {
		runs = append(runs, fmt.Sprintf("%d at %s versions", s.Runs, count(s.N)))
	}
	fmt.Fprintf(&b, "\n- Every time is the **median of the runs** (%s; one run is no median, just a run), wall clock of the subprocess; peak RSS is the subprocess's maximum resident set size (median), measured through bench/cmd/measure, whose own footprint (%.1f MiB, measured on `true`) is included.\n", strings.Join(runs, ", "), rep.BaselineRSSMiB)
	b.WriteString("- Artifacts are read from the page cache (the generator has just written them); caches are not dropped.\n\n")
	b.WriteString("## Results\n\n")
	b.WriteString(renderMarkdownTable(rows(rep)))
	n, ts := targets(rep)
	if len(ts) > 0 {
		fmt.Fprintf(&b, "\n## Targets of issue 14 (at %s versions)\n\n", count(n))
		b.WriteString("| target | measured | status |\n|---|---|---|\n")
		for _, t := range ts {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", t.Goal, t.Measured, t.Status)
		}
	}
	if ts := targets100k(rep); len(ts) > 0 {
		b.WriteString("\n## Targets of issue 14 at 100,000 versions\n\n")
		b.WriteString("| target | measured | status |\n|---|---|---|\n")
		for _, t := range ts {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", t.Goal, t.Measured, t.Status)
		}
	}
	for _, s := range rep.Sizes {
		if s.BuildJSON == nil && s.IncrementalJSON == nil {
			continue
		}
		fmt.Fprintf(&b, "\n## Build phases at %s versions (`ebpfrepo build --json`)\n\n", count(s.N))
		b.WriteString("| build | hashed | validated | cached | roles signed | bins signed | phases (s) |\n|---|--:|--:|--:|---|--:|---|\n")
		for _, x := range []struct {
			name string
			bs   *buildSummary
		}{{"cold (last run)", s.BuildJSON}, {"nothing changed (last run)", s.NoopJSON}, {"incremental (last run)", s.IncrementalJSON}} {
			if x.bs == nil {
				continue
			}
			var ph []string
			for _, p := range x.bs.Phases {
				ph = append(ph, fmt.Sprintf("%s %.3f", p.Name, p.Seconds))
			}
			fmt.Fprintf(&b, "| %s | %d | %d | %d | %s | %d of %d | %s |\n", x.name, x.bs.Hashed, x.bs.Validated, x.bs.Cached, strings.Join(x.bs.RolesSigned, ", "), x.bs.BinsSigned, x.bs.Bins, strings.Join(ph, ", "))
		}
	}
	var errs []string
	for _, s := range rep.Sizes {
		errs = append(errs, s.Errors...)
	}
	if len(errs) > 0 {
		b.WriteString("\n## Steps that failed or were skipped\n\n")
		for _, e := range errs {
			fmt.Fprintf(&b, "- %s\n", strings.ReplaceAll(e, "|", "\\|"))
		}
	}
	return b.String()
}

// cpu is the CPU time of a step and how many cores it kept busy on
// average.
func cpu(s measure.Summary) string {
	if s.Runs == 0 || s.Seconds == 0 {
		return na
	}
	return fmt.Sprintf("%.2f s (%.1f)", s.CPU, s.CPU/s.Seconds)
}
