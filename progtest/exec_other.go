//go:build !linux

package progtest

import (
	"runtime"
	"syscall"
	"time"

	"github.com/ebpfrepo/ebpfrepo/bpfobj"
)

func host() (kernel, arch string) { return "", runtime.GOARCH }

func childAttr() *syscall.SysProcAttr { return nil }

func limitChild(time.Duration, uint64) {}

func runCase(*bpfobj.Object, Case) Result {
	return Result{Status: StatusNotRun, Reason: "BPF programs run on Linux; this is " + runtime.GOOS}
}
