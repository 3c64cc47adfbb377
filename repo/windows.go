package repo

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/ebpfrepo/ebpfrepo/authenticode"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

// testProductionRoots, set by tests only, stands in for Microsoft Root
// Certificate Authority 2011 so that the production class can be tested
// end to end with a test root. ebpfrepo.toml cannot change it: a
// repository must never call a driver production-ebpf that eBPF for
// Windows would refuse.
var testProductionRoots []*x509.Certificate

// windowsTrust is what drivers are verified against, and a digest of it
// that salts the description cache (a description made under other
// roots must not be reused).
func (r *Repo) windowsTrust() (authenticode.Trust, string, error) {
	var t authenticode.Trust
	h := sha256.New()
	roots, err := readCerts(r.Dir, "windows.test_roots", r.Config.Windows.TestRoots)
	if err != nil {
		return t, "", err
	}
	for _, c := range roots {
		t.TestRoots = append(t.TestRoots, c)
		t.TimestampRoots = append(t.TimestampRoots, c) // a test root anchors test time-stamping authorities too
		h.Write(c.Raw)
	}
	for _, c := range testProductionRoots {
		t.ProductionRoots = append(t.ProductionRoots, c)
		t.ProductionThumbprints = append(t.ProductionThumbprints, sha1hex(c))
		h.Write([]byte("production"))
		h.Write(c.Raw)
	}
	if len(t.TestRoots) == 0 && len(t.ProductionRoots) == 0 {
		return t, "", nil
	}
	return t, "w" + hex.EncodeToString(h.Sum(nil))[:16], nil
}

// hvciProblems refuses drivers below the class the configuration
// requires of a package.
func (r *Repo) hvciProblems(label, name string, d *pkgfmt.Description) pkgfmt.Problems {
	need := r.Config.Windows.requiredHVCI(name)
	if need == authenticode.ClassUnsigned {
		return nil
	}
	var ps pkgfmt.Problems
	for _, dr := range d.Drivers {
		if hvciRank(dr.Class) < hvciRank(need) {
			ps = append(ps, pkgfmt.Problem{Severity: pkgfmt.SeverityError, Package: label, File: dr.Path, Code: "hvci.required",
				Message: fmt.Sprintf("the driver is %s, but ebpfrepo.toml requires %s of %s (windows.require_hvci): sign it accordingly, or change the requirement", dr.Class, need, name)})
		}
	}
	return ps
}

func hvciRank(c authenticode.Class) int {
	return slices.Index([]authenticode.Class{authenticode.ClassUnsigned, authenticode.ClassTestSigned, authenticode.ClassProduction}, c)
}

// hvciStatus is a version's HVCI level for the index: absent without
// drivers, else the weakest class among them.
func hvciStatus(d *pkgfmt.Description) string {
	if len(d.Drivers) == 0 {
		return "absent"
	}
	worst := d.Drivers[0].Class
	for _, dr := range d.Drivers[1:] {
		if hvciRank(dr.Class) < hvciRank(worst) {
			worst = dr.Class
		}
	}
	return string(worst)
}

func sha1hex(c *x509.Certificate) string {
	s := sha1.Sum(c.Raw)
	return hex.EncodeToString(s[:])
}
