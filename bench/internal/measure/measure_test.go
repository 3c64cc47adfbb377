package measure

import (
	"context"
	"encoding/json"
	"os"
	"runtime"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := Median(tc.in); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestRun runs this test binary as a child that allocates and touches
// 64 MiB, and checks the peak RSS the kernel reports covers it.
func TestRun(t *testing.T) {
	if os.Getenv("MEASURE_CHILD") == "1" {
		b := make([]byte, 64<<20)
		for i := range b {
			b[i] = 1
		}
		runtime.KeepAlive(b)
		os.Stdout.WriteString("done\n")
		return
	}
	r, err := Run(context.Background(), []string{os.Args[0], "-test.run=^TestRun$"}, Options{Env: []string{"MEASURE_CHILD=1"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Wall <= 0 || r.ExitCode != 0 {
		t.Errorf("wall %v, exit %d", r.Wall, r.ExitCode)
	}
	if runtime.GOOS == "linux" && r.MaxRSS < 64<<20 {
		t.Errorf("peak RSS %d bytes, want at least 64 MiB", r.MaxRSS)
	}
	if s := Summarize([]Result{r}); s.Runs != 1 || s.RSSMiB < 64 {
		t.Errorf("summary %+v", s)
	}
}

func TestRunFailure(t *testing.T) {
	r, err := Run(context.Background(), []string{"/bin/sh", "-c", "exit 3"}, Options{})
	if err == nil || r.ExitCode != 3 {
		t.Errorf("exit %d, err %v; want exit 3 and an error", r.ExitCode, err)
	}
}

// TestRunWrapped uses this test binary as the wrapper: with
// MEASURE_WRAPPER=1 it does what bench/cmd/measure does.
func TestRunWrapped(t *testing.T) {
	if os.Getenv("MEASURE_WRAPPER") == "1" {
		args := os.Args[1:]
		for len(args) > 0 && args[0] != "-o" {
			args = args[1:]
		}
		out, cmd := args[1], args[3:]
		r, err := Run(context.Background(), cmd, Options{})
		os.Stdout.Write(r.Stdout)
		b, _ := json.Marshal(r)
		os.WriteFile(out, b, 0o644)
		if err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	t.Setenv("MEASURE_WRAPPER", "1")
	// The test binary treats "-test.run=^TestRunWrapped$ -o FILE -- CMD" as its wrapper call.
	self := os.Args[0]
	wrapper := t.TempDir() + "/wrapper"
	if err := os.WriteFile(wrapper, []byte("#!/bin/sh\nexec "+self+" -test.run='^TestRunWrapped$' -- \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := RunWrapped(context.Background(), wrapper, []string{"/bin/sh", "-c", "echo hello"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if string(r.Stdout) != "hello\n" || r.Wall <= 0 || r.Args[0] != "/bin/sh" {
		t.Errorf("result %+v, stdout %q", r, r.Stdout)
	}
	if _, err := RunWrapped(context.Background(), wrapper, []string{"/bin/sh", "-c", "exit 4"}, Options{}); err == nil {
		t.Error("a failing command measured without error")
	}
}
