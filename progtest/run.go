package progtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ebpfrepo/ebpfrepo/bpfobj"
)

// Options configures Run. The zero value means defaults.
type Options struct {
	// Timeout bounds the wall time of one vector (loading, preloading,
	// every run): the child running it is killed when it is up.
	// Zero: 10 s.
	Timeout time.Duration
	// Memory bounds the address space a child may add to what it had at
	// start (RLIMIT_AS); map memory is bounded separately, as the
	// verifier check bounds it. Zero: 256 MiB.
	Memory uint64
}

func (o Options) timeout() time.Duration {
	if o.Timeout <= 0 {
		return 10 * time.Second
	}
	return o.Timeout
}

func (o Options) memory() uint64 {
	if o.Memory == 0 {
		return 256 << 20
	}
	return o.Memory
}

// childEnv marks the environment of a child process Run starts.
const childEnv = "EBPFREPO_PROGTEST_CHILD"

// maxJob bounds what a child reads: the object and the case.
const maxJob = 2*bpfobj.MaxObjectSize + 2*MaxCaptureSize + 1<<20

var served atomic.Bool

// Serve makes this executable able to run Run's vectors in a child
// process: call it first in main, and in TestMain of tests that run
// vectors. In a child Run started, it runs the one vector it is given,
// writes the result and exits; otherwise it returns at once.
func Serve() {
	served.Store(true)
	if os.Getenv(childEnv) != "1" {
		return
	}
	os.Exit(serveChild(os.Stdin, os.Stdout))
}

// job is what the parent gives a child on its standard input; its limits
// travel in the environment (childEnv_TIMEOUT, childEnv_MEMORY).
type job struct {
	Object  string        `json:"object"`
	Data    []byte        `json:"data"`
	Case    Case          `json:"case"`
	Timeout time.Duration `json:"-"`
	Memory  uint64        `json:"-"`
}

func serveChild(in io.Reader, out io.Writer) int {
	// The limits come first, from the environment, so that they bound
	// reading the job too.
	timeout, _ := time.ParseDuration(os.Getenv(childEnv + "_TIMEOUT"))
	mem, _ := strconv.ParseUint(os.Getenv(childEnv+"_MEMORY"), 10, 64)
	limitChild(timeout, mem)
	var j job
	data, err := io.ReadAll(io.LimitReader(in, maxJob+1))
	if err == nil && len(data) > maxJob {
		err = errors.New("job over the size limit")
	}
	if err == nil {
		err = json.Unmarshal(data, &j)
	}
	var res Result
	if err != nil {
		res = Result{Status: StatusError, Reason: "child: reading the job: " + err.Error()}
	} else {
		res = runParsed(j.Object, j.Data, j.Case, nil)
	}
	if err := json.NewEncoder(out).Encode(res); err != nil {
		return 1
	}
	return 0
}

// Run runs every case against the objects that hold their programs and
// reports each one's result, in order. Each case runs in a child process
// (see Serve) under opts' limits, with maps created afresh; where this
// host cannot load BPF programs every case is "not-run" with the reason.
// It never fails: whatever goes wrong is a result.
func Run(ctx context.Context, objs []bpfobj.ObjectData, cases []Case, opts Options) *Report {
	r := &Report{Results: make([]Result, 0, len(cases))}
	r.Kernel, r.Arch = host()
	isolated := served.Load()
	if isolated {
		r.Isolation = fmt.Sprintf("child process (%s, %d MiB)", opts.timeout(), opts.memory()>>20)
	} else {
		r.Isolation = "in process (this program does not call progtest.Serve)"
	}
	data := map[string][]byte{}
	for _, o := range objs {
		data[o.Path] = o.Data
	}
	notRun := ""
	if len(cases) > 0 {
		notRun = bpfobj.LoadPreflight()
	}
	parsed := map[string]*bpfobj.Object{}
	for _, c := range cases {
		var res Result
		switch d, ok := data[c.Object]; {
		case notRun != "":
			res = Result{Status: StatusNotRun, Reason: notRun}
		case ctx.Err() != nil:
			res = Result{Status: StatusNotRun, Reason: "cancelled: " + ctx.Err().Error()}
		case !ok:
			res = Result{Status: StatusError, Reason: fmt.Sprintf("object %s is not among those given", c.Object)}
		case isolated:
			res = runChild(ctx, job{Object: c.Object, Data: d, Case: c, Timeout: opts.timeout(), Memory: opts.memory()})
		default:
			res = runParsed(c.Object, d, c, parsed)
		}
		res.Name, res.Object, res.Program = c.Name, c.Object, c.Program
		if res.Want == "" {
			res.Want = c.Want.Name
		}
		r.Results = append(r.Results, res)
	}
	return r
}

// runParsed parses the object (once per path when cache is given) and
// runs the case in this process.
func runParsed(path string, data []byte, c Case, cache map[string]*bpfobj.Object) Result {
	o := cache[path]
	if o == nil {
		var err error
		if o, err = bpfobj.Parse(path, data); err != nil {
			return Result{Status: StatusError, Reason: err.Error()}
		}
		if cache != nil {
			cache[path] = o
		}
	}
	return runCase(o, c)
}

// runChild runs one job in a child process of this executable, killed
// when its time is up.
func runChild(ctx context.Context, j job) Result {
	exe, err := os.Executable()
	if err != nil {
		return Result{Status: StatusError, Reason: "cannot start the child process: " + err.Error()}
	}
	in, err := json.Marshal(j)
	if err != nil {
		return Result{Status: StatusError, Reason: "encoding the job: " + err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, j.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), childEnv+"=1", childEnv+"_TIMEOUT="+j.Timeout.String(), childEnv+"_MEMORY="+strconv.FormatUint(j.Memory, 10))
	cmd.Stdin = bytes.NewReader(in)
	var out, stderr limitedBuffer
	out.max, stderr.max = 1<<20, 4<<10
	cmd.Stdout, cmd.Stderr = &out, &stderr
	cmd.SysProcAttr = childAttr()
	cmd.WaitDelay = time.Second
	start := time.Now()
	err = cmd.Run()
	took := time.Since(start).Round(time.Millisecond)
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return Result{Status: StatusError, Reason: fmt.Sprintf("stopped by the time limit after %s: the program loops, or repeat is too high for the limit", took)}
	case ctx.Err() != nil:
		return Result{Status: StatusNotRun, Reason: "cancelled: " + ctx.Err().Error()}
	case err != nil && strings.Contains(stderr.String(), "out of memory"):
		return Result{Status: StatusError, Reason: fmt.Sprintf("stopped by the memory limit (%d MiB beyond its start): %s", j.Memory>>20, firstLine(stderr.String()))}
	case err != nil:
		return Result{Status: StatusError, Reason: fmt.Sprintf("the child process failed (%v): %s (the memory limit is %d MiB)", err, firstLine(stderr.String()), j.Memory>>20)}
	}
	var res Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return Result{Status: StatusError, Reason: "the child process answered nonsense: " + err.Error()}
	}
	return res
}

// firstLine is the first line of a child's standard error: a Go runtime
// failure says what it is there, the stack follows.
func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	if s == "" {
		return "no message"
	}
	return s
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		if len(p) > room {
			b.Buffer.Write(p[:room])
		} else {
			b.Buffer.Write(p)
		}
	}
	return len(p), nil
}
