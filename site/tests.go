package site

import (
	"fmt"
	"time"

	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
	"github.com/ebpfrepo/ebpfrepo/progtest"
)

// testsView is what the catalogue shows of a version's test vectors: a
// badge (card and page) and, on the page, the table of results.
type testsView struct {
	Badge  string // "✓ 4/4 tests pass on 6.18 x86_64", "untested", ...
	Class  string // badge-ok, badge-bad, badge-warn or ""
	Text   string // the home card's class: ok, bad or ""
	Kernel string // where they ran
	Rows   []testRow
	Note   string // why there is no table
}

type testRow struct {
	Program, Name, Status, Detail string
	Runs                          int
	Time                          string
}

// testsOf is the one rule for what a version's tests say: untested
// without vectors, "not run" when the repository did not run them, and
// else exactly what the report found — a failure is never shown as a
// pass, a program that cannot run in isolation never as tested.
func testsOf(d *pkgfmt.Description) testsView {
	r, n := d.Tests, d.TestVectors
	var v testsView
	switch c := r.Count(); {
	case n == 0:
		v.Badge, v.Class = "untested", "badge-warn"
		v.Note = "The package ships no test vectors ([[tests]] in its manifest)."
		if c.NotRunnable > 0 {
			v.Note += " Its programs are of types BPF_PROG_RUN cannot run in isolation."
		}
	case r == nil:
		v.Badge = fmt.Sprintf("%s, not run here", plural(n, "test vector"))
		v.Note = "This repository does not run test vectors (verify = true in ebpfrepo.toml runs them); run them yourself with ebpfrepo test."
	case c.NotRun == c.Vectors():
		v.Badge, v.Class = "tests not run", "badge-warn"
	case c.Fail+c.Error > 0:
		v.Badge, v.Class, v.Text = fmt.Sprintf("✗ %d of %d tests fail on %s", c.Fail+c.Error, c.Vectors(), kernelOf(r)), "badge-bad", "bad"
	default:
		v.Badge, v.Class, v.Text = fmt.Sprintf("✓ %d/%d tests pass on %s", c.Pass, c.Vectors(), kernelOf(r)), "badge-ok", "ok"
	}
	if r == nil {
		return v
	}
	v.Kernel = kernelOf(r)
	for _, x := range r.Results {
		row := testRow{Program: x.Program, Name: x.Name, Status: x.Status, Runs: x.Runs}
		switch x.Status {
		case progtest.StatusPass:
			row.Detail = x.Got
			row.Time = time.Duration(x.DurationNS).Round(time.Microsecond).String()
		case progtest.StatusFail:
			row.Detail = x.Diff
		default:
			row.Detail = x.Reason
		}
		if row.Name == "" {
			row.Name = "(no vector)"
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

func kernelOf(r *progtest.Report) string {
	if r.Kernel == "" {
		return r.Arch
	}
	return shortKernel(r.Kernel) + " " + r.Arch
}
