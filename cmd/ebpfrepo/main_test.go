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
