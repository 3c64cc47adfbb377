// Command ebpfrepo builds static, signed eBPF package repositories and
// fetches packages from them, verifying every byte.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/ebpfrepo/ebpfrepo/progtest"
	"github.com/spf13/cobra"
)

// globals are the flags and streams every command shares.
type globals struct {
	JSON   bool
	Stdout io.Writer
	Stderr io.Writer
}

// errValidation marks a validation or verification failure: exit status 1.
var errValidation = errors.New("validation failed")

// usageError marks a usage error: exit status 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// commands are registered by each command's file in init, so that
// command groups live in their own files.
var commands []func(*globals) *cobra.Command

func registerCommand(f func(*globals) *cobra.Command) { commands = append(commands, f) }

func newRootCmd(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:           "ebpfrepo",
		Short:         "Build and consume static, signed eBPF package repositories",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionString(),
	}
	root.SetVersionTemplate("ebpfrepo {{.Version}}\n")
	root.PersistentFlags().BoolVar(&g.JSON, "json", false, "machine-readable JSON output")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	for _, f := range commands {
		root.AddCommand(f(g))
	}
	return root
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	g := &globals{Stdout: stdout, Stderr: stderr}
	root := newRootCmd(g)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err != nil && strings.HasPrefix(err.Error(), "unknown command ") {
		// cobra's own words, with its "Did you mean this?": a usage error.
		err = &usageError{err}
	}
	if err != nil && g.JSON && !errors.Is(err, errSilent) {
		// --json: the error as JSON on stdout too, so a script reads one stream.
		code := "failed"
		if exitCode(err) == 2 {
			code = "usage"
		}
		writeJSON(stdout, map[string]any{"error": map[string]any{"code": code, "exit": exitCode(err), "message": err.Error()}})
	}
	return err
}

// exitCode maps an error returned by run to the process exit status: 0
// for success, 2 for a usage error (the command line is wrong: fix it and
// run again), 1 for every other failure — validation, verification, I/O,
// network — whose message says which.
func exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		return 2
	default:
		return 1
	}
}

func main() {
	progtest.Serve() // a child running one test vector (ebpfrepo test) exits here
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfile := startProfile()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stopProfile()
	stop()
	if err != nil && !errors.Is(err, errSilent) {
		fmt.Fprintf(os.Stderr, "ebpfrepo: %v\n", err)
	}
	os.Exit(exitCode(err))
}

// errSilent is returned (wrapped with errValidation) when the command has
// already reported its problems and only the exit status remains.
var errSilent = errors.New("already reported")

// usagef returns a usage error (exit status 2).
func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// argsBetween validates the positional argument count; a wrong count is a
// usage error (exit status 2). max < 0 means no upper bound.
func argsBetween(min, max int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < min || (max >= 0 && len(args) > max) {
			return usagef("%s: wrong number of arguments\nusage: %s", cmd.Name(), cmd.UseLine())
		}
		return nil
	}
}

// writeJSON writes v as indented JSON: the --json output of every command.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// startProfile writes a CPU profile to $EBPFREPO_CPUPROFILE and a heap
// profile to $EBPFREPO_MEMPROFILE when they are set, and the live heap
// at its peak to $EBPFREPO_MEMPROFILE_PEAK (docs/performance.md,
// "Profiling"); the returned function ends them.
func startProfile() func() {
	cpu, mem := os.Getenv("EBPFREPO_CPUPROFILE"), os.Getenv("EBPFREPO_MEMPROFILE")
	stopPeak := peakProfile(os.Getenv("EBPFREPO_MEMPROFILE_PEAK"), 5*time.Millisecond)
	var f *os.File
	if cpu != "" {
		var err error
		if f, err = os.Create(cpu); err == nil {
			if err := pprof.StartCPUProfile(f); err != nil {
				f.Close()
				f = nil
			}
		}
	}
	return func() {
		stopPeak()
		if f != nil {
			pprof.StopCPUProfile()
			f.Close()
		}
		if mem != "" {
			if m, err := os.Create(mem); err == nil {
				_ = pprof.Lookup("allocs").WriteTo(m, 0)
				m.Close()
			}
		}
	}
}

// heapProfileAt wraps a build's Phase callback so that, as the phase
// named at starts, the live heap (after a collection) is written to file
// as a pprof heap profile: EBPFREPO_MEMPROFILE_AT=index shows what the
// build holds at the end of validation, where an exit profile only shows
// what it allocated in all. at may name several phases, comma-separated
// (one file each). With at or file empty, next is returned as is.
func heapProfileAt(at, file string, next func(name, what string)) func(name, what string) {
	if at == "" || file == "" {
		return next
	}
	phases := strings.Split(at, ",")
	return func(name, what string) {
		if slices.Contains(phases, name) {
			runtime.GC()
			if m, err := os.Create(file + "." + name); err == nil {
				_ = pprof.Lookup("heap").WriteTo(m, 0)
				m.Close()
			}
		}
		if next != nil {
			next(name, what)
		}
	}
}

// peakProfile samples the live heap every interval and, each time it is
// a MiB above the highest seen, collects and writes a heap profile to
// file (replacing the last): what a command holds at its peak, which is
// rarely at a phase boundary. The forced collections slow the command
// down; with GODEBUG=memprofilerate=1 the figures are exact. With file
// empty it does nothing. The returned function stops it.
func peakProfile(file string, interval time.Duration) func() {
	if file == "" {
		return func() {}
	}
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		var peak uint64
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			metrics.Read(s)
			if live := s[0].Value.Uint64(); live > peak+1<<20 {
				peak = live
				runtime.GC()
				if m, err := os.Create(file); err == nil {
					_ = pprof.Lookup("heap").WriteTo(m, 0)
					m.Close()
				}
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}
