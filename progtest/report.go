package progtest

import (
	"fmt"
	"strings"
)

// Statuses of a [Result].
const (
	// StatusPass: every run gave the expected verdict, output and maps.
	StatusPass = "pass"
	// StatusFail: the program ran and something differed; Diff says
	// what first.
	StatusFail = "fail"
	// StatusError: the vector could not run to the end (the program did
	// not load, the time or memory limit stopped it); Reason says why.
	// Counted as a failure.
	StatusError = "error"
	// StatusNotRunnable: the program's type cannot run in isolation
	// (kprobes, tracepoints, ...): nothing was tested, nothing passed.
	StatusNotRunnable = "not-runnable"
	// StatusNotRun: this host cannot run BPF programs (not Linux, not
	// privileged, no BPF syscall); Reason says which. Not a failure of
	// the package.
	StatusNotRun = "not-run"
)

// Report is what running a package's test vectors found, on one kernel.
// Its JSON form is the "tests" of a version's description
// (docs/index-format.md).
type Report struct {
	Kernel string `json:"kernel,omitempty"` // uname release
	Arch   string `json:"arch,omitempty"`   // uname machine
	// Isolation says how the vectors ran: "child process (10s, 256 MiB)"
	// or "in process".
	Isolation string   `json:"isolation,omitempty"`
	Results   []Result `json:"results"`
}

// Result is one vector's outcome (or, with no Name, a program of the
// package that no vector can run).
type Result struct {
	Name    string `json:"name,omitempty"`
	Object  string `json:"object,omitempty"`
	Program string `json:"program"`
	Status  string `json:"status"`
	Want    string `json:"want,omitempty"` // the expected verdict
	Got     string `json:"got,omitempty"`  // the verdict of the last run
	Runs    int    `json:"runs,omitempty"` // program runs (inputs × repeat)
	// DurationNS is the wall time of the runs, in nanoseconds.
	DurationNS int64  `json:"duration_ns,omitempty"`
	Diff       string `json:"diff,omitempty"`   // fail: the first difference
	Reason     string `json:"reason,omitempty"` // error, not-runnable, not-run: why
}

// Counts tallies results by status.
type Counts struct {
	Pass, Fail, Error, NotRunnable, NotRun int
}

// Vectors is the number of test vectors (results with a name).
func (c Counts) Vectors() int { return c.Pass + c.Fail + c.Error + c.NotRun }

// Count tallies the report's results; a nil report counts nothing.
func (r *Report) Count() Counts {
	var c Counts
	if r == nil {
		return c
	}
	for _, x := range r.Results {
		switch x.Status {
		case StatusPass:
			c.Pass++
		case StatusFail:
			c.Fail++
		case StatusError:
			c.Error++
		case StatusNotRunnable:
			c.NotRunnable++
		case StatusNotRun:
			c.NotRun++
		}
	}
	return c
}

// Failed reports whether a vector failed or could not run to its end.
func (r *Report) Failed() bool { c := r.Count(); return c.Fail+c.Error > 0 }

// On is "6.18.44 x86_64", the kernel the report was made on.
func (r *Report) On() string { return strings.TrimSpace(r.Kernel + " " + r.Arch) }

// Summary is the one line the index, the CLI and the catalogue show:
// "4/4 tests pass on 6.18.44 x86_64", "1 of 4 tests fail on ...",
// "tests not run: ...", and how many programs are not runnable in
// isolation.
func (r *Report) Summary() string {
	if r == nil {
		return "untested"
	}
	c := r.Count()
	var s string
	switch n := c.Vectors(); {
	case n == 0:
		s = "no test vectors"
	case c.NotRun == n:
		s = "tests not run"
		for _, x := range r.Results {
			if x.Status == StatusNotRun && x.Reason != "" {
				s += ": " + x.Reason
				break
			}
		}
		return s
	case c.Fail+c.Error > 0:
		s = fmt.Sprintf("%d of %d %s fail on %s", c.Fail+c.Error, n, plural(n, "test"), r.On())
	default:
		s = fmt.Sprintf("%d/%d %s pass on %s", c.Pass, n, plural(n, "test"), r.On())
	}
	if c.NotRunnable > 0 {
		s += fmt.Sprintf("; %d %s not runnable in isolation", c.NotRunnable, plural(c.NotRunnable, "program"))
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
