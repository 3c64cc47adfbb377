package main

import (
	"os"
	"testing"

	"github.com/ebpfrepo/ebpfrepo/progtest"
)

// TestMain lets the test binary run test vectors in child processes, as
// the ebpfrepo binary does (progtest.Serve).
func TestMain(m *testing.M) {
	progtest.Serve()
	os.Exit(m.Run())
}

// stepper returns a step of a CLI walkthrough: run args through run(),
// fail unless it exits with want, and return stdout and stderr.
func stepper(t *testing.T) func(want int, args ...string) string {
	return func(want int, args ...string) string {
		t.Helper()
		out, errOut, code := runCmd(t, args...)
		if code != want {
			t.Fatalf("%q: exit %d, want %d\n%s%s", args, code, want, out, errOut)
		}
		return out + errOut
	}
}
