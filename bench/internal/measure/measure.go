package measure

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// Result is one measured run of a command.
type Result struct {
	Args     []string      `json:"args"`
	Wall     time.Duration `json:"wall_ns"`
	User     time.Duration `json:"user_ns"`
	Sys      time.Duration `json:"sys_ns"`
	MaxRSS   int64         `json:"max_rss_bytes"` // peak resident set size; 0 where the OS does not say
	ExitCode int           `json:"exit_code"`
	Stdout   []byte        `json:"-"`
}

// Options configure Run. The zero value runs in the current directory
// with the current environment, stderr to os.Stderr.
type Options struct {
	Dir    string
	Env    []string  // added to the current environment
	Stderr io.Writer // nil means os.Stderr
}

// Run runs args[0] with args[1:], waits for it and measures it. A
// command that cannot start, or exits non-zero, is an error that quotes
// the command and its exit status (the Result is still filled in).
func Run(ctx context.Context, args []string, opts Options) (Result, error) {
	if len(args) == 0 {
		return Result{}, errors.New("measure: no command")
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = opts.Dir
	if len(opts.Env) > 0 {
		cmd.Env = append(os.Environ(), opts.Env...)
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = opts.Stderr
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	start := time.Now()
	err := cmd.Run()
	r := Result{Args: args, Wall: time.Since(start), Stdout: out.Bytes()}
	if ps := cmd.ProcessState; ps != nil {
		r.User, r.Sys, r.ExitCode = ps.UserTime(), ps.SystemTime(), ps.ExitCode()
		r.MaxRSS = maxRSS(ps)
	}
	if err != nil {
		return r, fmt.Errorf("%s: %w", strings.Join(args, " "), err)
	}
	return r, nil
}

// Median returns the median of xs (the mean of the middle two for an
// even count), or 0 for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Summary is the median of repeated runs.
type Summary struct {
	Runs    int     `json:"runs"`
	Seconds float64 `json:"seconds"` // median wall time
	Min     float64 `json:"min_seconds"`
	Max     float64 `json:"max_seconds"`
	CPU     float64 `json:"cpu_seconds"` // median user+system time
	RSSMiB  float64 `json:"max_rss_mib"` // median peak RSS
}

// Summarize returns the medians of rs.
func Summarize(rs []Result) Summary {
	if len(rs) == 0 {
		return Summary{}
	}
	var wall, cpu, rss []float64
	for _, r := range rs {
		wall = append(wall, r.Wall.Seconds())
		cpu = append(cpu, (r.User + r.Sys).Seconds())
		rss = append(rss, float64(r.MaxRSS)/(1<<20))
	}
	return Summary{Runs: len(rs), Seconds: Median(wall), Min: slices.Min(wall), Max: slices.Max(wall), CPU: Median(cpu), RSSMiB: Median(rss)}
}

// RunWrapped runs args through wrapper, the bench/cmd/measure program
// (`measure -o FILE -- ARGS...`), and returns the result it measured.
// The kernel counts the memory of the process that starts a command
// into the command's peak RSS (the command runs in the starter's address
// space until it execs), so a large parent such as the harness would
// inflate every number: the small wrapper bounds that to its own
// footprint, which Baseline measures.
func RunWrapped(ctx context.Context, wrapper string, args []string, opts Options) (Result, error) {
	f, err := os.CreateTemp("", "measure-*.json")
	if err != nil {
		return Result{}, err
	}
	f.Close()
	defer os.Remove(f.Name())
	wr, err := Run(ctx, append([]string{wrapper, "-o", f.Name(), "--"}, args...), opts)
	r := Result{Args: args, Stdout: wr.Stdout, ExitCode: wr.ExitCode}
	if data, rerr := os.ReadFile(f.Name()); rerr == nil && len(data) > 0 {
		if jerr := json.Unmarshal(data, &r); jerr != nil {
			return r, fmt.Errorf("%s: result: %w", wrapper, jerr)
		}
		r.Args, r.Stdout = args, wr.Stdout
	} else if err == nil {
		err = fmt.Errorf("%s: no result written", wrapper)
	}
	if err != nil {
		return r, fmt.Errorf("%s: %w", strings.Join(args, " "), errors.Unwrap(err))
	}
	return r, nil
}
