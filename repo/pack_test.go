package repo

import (
	"context"
	"testing"
	"time"

	"github.com/ebpfrepo/ebpfrepo/internal/testpkgs"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

func packWithTime(t *testing.T, dir, out string, mt time.Time) (string, error) {
	return pkgfmt.Pack(context.Background(), testpkgs.Dir(dir), out, pkgfmt.PackOptions{ModTime: mt})
}

func packDir(t *testing.T, dir, out string) (string, error) {
	return pkgfmt.Pack(context.Background(), dir, out, pkgfmt.PackOptions{ModTime: testpkgs.ModTime})
}

func readManifestOf(t *testing.T, dir string) *pkgfmt.Manifest {
	m, _ := testpkgs.Manifest(t, dir)
	return m
}
