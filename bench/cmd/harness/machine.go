package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Machine describes where the numbers were measured.
type Machine struct {
	CPU      string `json:"cpu"`
	Cores    int    `json:"cores"`
	MemTotal string `json:"mem_total"`
	Kernel   string `json:"kernel"`
	OS       string `json:"os"`
	Go       string `json:"go"`
	Helm     string `json:"helm,omitempty"`
	Commit   string `json:"commit,omitempty"`
	Date     string `json:"date"`
}

func machine(ctx context.Context, cfg config) Machine {
	m := Machine{CPU: "unknown", Cores: runtime.NumCPU(), MemTotal: "unknown", Kernel: "unknown",
		OS: runtime.GOOS + "/" + runtime.GOARCH, Go: goVersion(ctx), Date: time.Now().UTC().Format("2006-01-02 15:04 MST")}
	if v := procField("/proc/cpuinfo", "model name"); v != "" {
		m.CPU = v
	}
	if v := procField("/proc/meminfo", "MemTotal"); v != "" {
		var kb int64
		if _, err := fmt.Sscanf(v, "%d kB", &kb); err == nil {
			m.MemTotal = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if cfg.helm != "" {
		m.Helm = helmVersion(ctx, cfg.helm)
	}
	m.Commit = output(ctx, "git", "-C", cfg.root, "describe", "--always", "--dirty")
	return m
}

// goVersion is the toolchain's version (what built the binaries), or
// this program's when go is not on PATH.
func goVersion(ctx context.Context) string {
	if v := output(ctx, "go", "env", "GOVERSION"); v != "" {
		return v
	}
	return runtime.Version()
}

func output(ctx context.Context, name string, args ...string) string {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// procField returns the value of the first "key : value" line of a
// /proc file.
func procField(path, key string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// helmVersion is the module version helm was built from (a `go install`
// build reports only "v3.22" itself).
func helmVersion(ctx context.Context, helm string) string {
	for _, line := range strings.Split(output(ctx, "go", "version", "-m", helm), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "mod" && f[1] == "helm.sh/helm/v3" {
			return f[2]
		}
	}
	return output(ctx, helm, "version", "--short")
}
