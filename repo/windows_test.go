package repo

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ebpfrepo/ebpfrepo/authenticode"
	"github.com/ebpfrepo/ebpfrepo/client"
	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

const windowsFixtures = "../testdata/windows"

// driverPackage is a copy of testdata/windows/package carrying fixture as
// its driver.
func driverPackage(t *testing.T, fixture string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "windows-driver")
	os.MkdirAll(dir, 0o755)
	for _, f := range []string{"ebpf-package.toml", "README.md"} {
		copyTo(t, filepath.Join(windowsFixtures, "package", f), dir)
	}
	data, err := os.ReadFile(filepath.Join(windowsFixtures, fixture))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup_sock_addr.sys"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func pemCert(t *testing.T, name string) *x509.Certificate {
	data, _ := os.ReadFile(filepath.Join(windowsFixtures, "keys", name+".pem"))
	b, _ := pem.Decode(data)
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestWindowsDrivers: add verifies every driver's Authenticode
// signatures offline and refuses, with the step's code, a tampered,
// expired, untrusted or wrongly profiled one, adding nothing; the class
// reaches the index as the version's HVCI level; require_hvci refuses
// anything less.
func TestWindowsDrivers(t *testing.T) {
	abs, _ := filepath.Abs(filepath.Join(windowsFixtures, "keys", "test-root.pem"))
	testProductionRoots = []*x509.Certificate{pemCert(t, "prod-mimic-root")}
	t.Cleanup(func() { testProductionRoots = nil })
	for _, tc := range []struct {
		fixture string
		require string // windows.require_hvci
		status  string // the version's hvci status, or
		code    string // the problem that refuses it
	}{
		{"unsigned.sys", "", "unsigned", ""},
		{"test-signed.sys", "", "test-signed", ""},
		{"production-mimic.sys", "production", "production-ebpf", ""},
		{"nested.sys", "test-signed", "test-signed", ""},
		{"unsigned.sys", "test-signed", "", "hvci.required"},
		{"test-signed.sys", "production", "", "hvci.required"},
		{"untrusted.sys", "", "", "hvci.chain"},
		{"no-ebpf-eku.sys", "", "", "hvci.profile"},
		{"expired.sys", "", "", "hvci.validity"},
		{"tampered-section.sys", "", "", "hvci.authentihash"},
		{"tampered-signature.sys", "", "", "hvci.pkcs7"},
		{"timestamped-expired.sys", "", "test-signed", ""},
		{"untrusted-timestamp.sys", "", "", "hvci.timestamp"},
	} {
		t.Run(tc.fixture+"/"+tc.require, func(t *testing.T) {
			r := newRepo(t)
			r.Config.Windows = Windows{TestRoots: []string{abs}, RequireHVCI: tc.require}
			_, err := r.Add(context.Background(), []string{driverPackage(t, tc.fixture)}, AddOptions{Now: t0})
			if tc.code != "" {
				assertRefused(t, r, err, tc.code)
				return
			}
			if err != nil {
				t.Fatalf("add: %v", err)
			}
			build(t, r, BuildOptions{})
			var p index.Package
			readJSON(t, findTarget(t, filepath.Join(r.Dir, layout.PublicDir), "index/windows-driver.json"), &p)
			v := p.Versions[0]
			if v.Signatures == nil || v.Signatures.HVCI.Status != tc.status {
				t.Fatalf("hvci status %+v, want %s", v.Signatures, tc.status)
			}
			page, _ := os.ReadFile(filepath.Join(r.Dir, layout.PublicDir, "packages", "windows-driver", "index.html"))
			badge := map[string]string{"unsigned": "unsigned driver", "test-signed": "test-signed driver", "production-ebpf": "HVCI: production-signed driver"}[tc.status]
			if !strings.Contains(string(page), badge) {
				t.Errorf("the package page does not say %q", badge)
			}
			if tc.status != "production-ebpf" && strings.Contains(string(page), "production-signed") {
				t.Errorf("a %s driver's page claims production signing", tc.status)
			}
			d := v.Description.Drivers
			if len(d) != 1 || d[0].Path != "cgroup_sock_addr.sys" || len(d[0].Programs) != 2 || !strings.Contains(strings.Join(d[0].Sections, " "), "cgroup~1") {
				t.Errorf("driver report %+v", d)
			}
		})
	}
}

// assertRefused checks that add refused with a problem of code and wrote
// nothing into packages/.
func assertRefused(t *testing.T, r *Repo, err error, code string) {
	t.Helper()
	var ie *InvalidError
	if !errors.As(err, &ie) || !hasCode(ie.Problems, code) {
		t.Fatalf("add: %v, want %s", err, code)
	}
	if ents, _ := os.ReadDir(filepath.Join(r.Dir, layout.PackagesDir)); len(ents) != 0 {
		t.Errorf("a refused package left %d entries in packages/", len(ents))
	}
}

func hasCode(ps pkgfmt.Problems, code string) bool {
	for _, p := range ps {
		if p.Code == code {
			return true
		}
	}
	return false
}

// TestClientRequireHVCI: a client that requires hvci takes a package
// whose driver it verifies, from the artifact's own bytes, as
// production-ebpf, and refuses a test-signed driver and a package with
// no driver at all.
func TestClientRequireHVCI(t *testing.T) {
	abs, _ := filepath.Abs(filepath.Join(windowsFixtures, "keys", "test-root.pem"))
	mimic := pemCert(t, "prod-mimic-root")
	testProductionRoots = []*x509.Certificate{mimic}
	t.Cleanup(func() { testProductionRoots = nil })
	trust := authenticode.Trust{ProductionThumbprints: []string{sha1hex(mimic)}, ProductionRoots: []*x509.Certificate{mimic}}
	for _, tc := range []struct {
		fixture string
		ok      bool
	}{{"production-mimic.sys", true}, {"nested-production.sys", true}, {"test-signed.sys", false}, {"unsigned.sys", false}} {
		t.Run(tc.fixture, func(t *testing.T) {
			r := newRepo(t)
			r.Config.Windows = Windows{TestRoots: []string{abs}}
			if _, err := r.Add(context.Background(), []string{driverPackage(t, tc.fixture)}, AddOptions{Now: t0}); err != nil {
				t.Fatal(err)
			}
			addGood(t, r, "tc-stats")
			build(t, r, BuildOptions{})
			out, _ := filepath.Abs(filepath.Join(r.Dir, layout.PublicDir))
			root, _ := os.ReadFile(filepath.Join(out, "metadata", "1.root.json"))
			c, err := client.New(client.Options{RepoURL: "file://" + out, TrustedRoot: root, CacheDir: t.TempDir(), Retries: -1,
				Now: func() time.Time { return t0.Add(time.Hour) }, Require: []string{client.LevelHVCI}, HVCITrust: trust})
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = c.Get(context.Background(), "windows-driver", "", "Windows")
			var he *client.HVCIError
			if tc.ok && err != nil {
				t.Errorf("get --require hvci: %v", err)
			}
			if !tc.ok && (!errors.As(err, &he) || !errors.Is(err, client.ErrPolicy)) {
				t.Errorf("get --require hvci: %v, want an HVCIError", err)
			}
			if _, _, err := c.Get(context.Background(), "tc-stats", "", "jammy"); !errors.As(err, &he) || he.Driver != "" {
				t.Errorf("a package without a driver: %v, want an HVCIError", err)
			}
		})
	}
}
