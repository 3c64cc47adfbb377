package repo

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ebpfrepo/ebpfrepo/internal/testpkgs"
	"github.com/ebpfrepo/ebpfrepo/layout"
)

// TestAddHelper is the process TestAddKilled kills: it adds tc-stats to
// the repository $ADD_REPO and dies at step $ADD_KILL.
func TestAddHelper(t *testing.T) {
	dir, at := os.Getenv("ADD_REPO"), os.Getenv("ADD_KILL")
	if dir == "" {
		t.Skip("run by TestAddKilled")
	}
	testHookAdd = func(s string) {
		if s == at {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	}
	r, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Add(context.Background(), []string{packed(t, "tc-stats")}, AddOptions{Now: t0}); err != nil {
		t.Fatal(err)
	}
}

// TestAddKilled: an add killed (SIGKILL) at any step leaves the version
// in packages/ whole or not at all; the next build neither fails on it
// nor keeps the leftovers.
func TestAddKilled(t *testing.T) {
	version := readManifestOf(t, testpkgs.Dir("tc-stats")).Version
	for _, tc := range []struct {
		at      string
		present bool
	}{{"staged", false}, {"placed", true}} {
		t.Run(tc.at, func(t *testing.T) {
			r := newRepo(t)
			addGood(t, r, "xdp-root")
			cmd := exec.Command(os.Args[0], "-test.run=^TestAddHelper$")
			cmd.Env = append(os.Environ(), "ADD_REPO="+r.Dir, "ADD_KILL="+tc.at)
			if err := cmd.Run(); err == nil {
				t.Fatal("the helper was not killed")
			}
			vdir := filepath.Join(r.Dir, layout.PackagesDir, "tc-stats", version)
			ents, err := os.ReadDir(vdir)
			if tc.present != (err == nil) {
				t.Fatalf("killed at %s: version directory present = %v, want %v", tc.at, err == nil, tc.present)
			}
			if tc.present && len(ents) != 2 {
				t.Errorf("version directory holds %d entries, want the artifact and added", len(ents))
			}
			// An atomic write's temporary file left in another version's
			// directory (a crash while recording an added date).
			tmp := filepath.Join(r.Dir, layout.PackagesDir, "xdp-root", readManifestOf(t, testpkgs.Dir("xdp-root")).Version, "."+layout.AddedFile+".tmp-123")
			if err := os.WriteFile(tmp, []byte("2026"), 0o644); err != nil {
				t.Fatal(err)
			}
			build(t, r, BuildOptions{})
			left, _ := filepath.Glob(filepath.Join(r.Dir, layout.PackagesDir, "tc-stats", ".*"))
			if _, err := os.Lstat(tmp); err == nil {
				left = append(left, tmp)
			}
			if len(left) != 0 {
				t.Errorf("leftovers after the next build: %v", left)
			}
			addGood(t, r, "tc-stats") // and adding again works
		})
	}
}

// TestAddCleansItsPackage: an add removes what an interrupted add left in
// the directory of the package it adds (no build needed in between).
func TestAddCleansItsPackage(t *testing.T) {
	r := newRepo(t)
	pdir := filepath.Join(r.Dir, layout.PackagesDir, "tc-stats")
	stage := filepath.Join(pdir, ".1.0.0"+stagingInfix+"42")
	if err := os.MkdirAll(filepath.Join(stage, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	addGood(t, r, "tc-stats")
	if _, err := os.Lstat(stage); err == nil {
		t.Errorf("%s is still there after an add of the package", stage)
	}
}

// TestBadAddedDate: an added file that is not a date is refused with the
// file named, not silently replaced.
func TestBadAddedDate(t *testing.T) {
	r := newRepo(t)
	res := addGood(t, r, "tc-stats")
	p := filepath.Join(filepath.Dir(res[0].Path), layout.AddedFile)
	if err := os.WriteFile(p, []byte("last tuesday\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := r.Build(context.Background(), BuildOptions{Now: t0})
	if err == nil || !strings.Contains(err.Error(), "repo.bad-added") && !strings.Contains(err.Error(), "RFC 3339") {
		t.Fatalf("build: %v, want the added file refused", err)
	}
	if !strings.Contains(err.Error(), "added") {
		t.Errorf("the error does not name the file: %v", err)
	}
}
