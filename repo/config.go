package repo

import (
	"bytes"
	"fmt"
	"github.com/ebpfrepo/ebpfrepo/authenticode"
	"math/bits"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/tufrepo"
)

// Config is ebpfrepo.toml. Every field is documented in docs/repository.md.
type Config struct {
	Name        string `toml:"name"`
	Description string `toml:"description"`
	BaseURL     string `toml:"base_url"`
	// Bins is the number of succinct hash bins (a power of two, 2 to
	// 65536); 0 sizes them from the number of targets.
	Bins int `toml:"bins"`
	// Verify makes build load every program into the running kernel's
	// verifier (root and a BPF-capable kernel; "not run" otherwise).
	Verify bool `toml:"verify"`
	// RequireTests refuses, at add and build, a package that ships no
	// test vectors ([[tests]]); Windows-only packages are exempt.
	RequireTests bool `toml:"require_tests,omitempty"`
	// Grace is how long files that left the current metadata (earlier
	// metadata versions, targets of removed versions) stay in the output,
	// for clients and caches that still hold an older timestamp.json:
	// "3d" (days) or a Go duration; "" means 3 days, "0s" never keeps them.
	Grace  string `toml:"grace,omitempty"`
	Expiry Expiry `toml:"expiry"`
	Keys   Keys   `toml:"keys"`
	// Windows says which Authenticode signatures of Windows native drivers
	// the repository trusts and requires (docs/windows.md).
	Windows Windows `toml:"windows,omitempty"`
	// Kernel says which kernel-signing certificates signed light-skeleton
	// loaders must chain to (docs/kernel-signing.md).
	Kernel Kernel `toml:"kernel,omitempty"`
	// Publishers lists the publisher grants, as ebpfrepo publisher add
	// recorded them, for people to read: the signed targets metadata is
	// what clients and builds trust.
	Publishers []PublisherConfig `toml:"publishers,omitempty"`
}

// PublisherConfig is one [[publishers]] entry of ebpfrepo.toml.
type PublisherConfig struct {
	Name      string   `toml:"name"`
	Packages  []string `toml:"packages"`
	KeyIDs    []string `toml:"keyids"`
	Threshold int      `toml:"threshold"`
}

// Expiry holds the validity period of each role's metadata, as Go
// durations ("24h") or days ("90d"). Empty means the default.
type Expiry struct {
	Root      string `toml:"root"`
	Targets   string `toml:"targets"`
	Bins      string `toml:"bins"`
	Snapshot  string `toml:"snapshot"`
	Timestamp string `toml:"timestamp"`
}

// Keys says where the private keys are: Dir (default "keys", relative to
// REPO_DIR or absolute) holds <role>.pem for each role, and root-2.pem,
// root-3.pem … for further root keys. The environment variable
// EBPFREPO_<ROLE>_KEY holding the PEM text replaces the files of its role.
type Keys struct {
	Dir string `toml:"dir"`
}

// Windows is the [windows] table of ebpfrepo.toml.
type Windows struct {
	// TestRoots are PEM certificate files (relative to REPO_DIR or
	// absolute) of the test roots whose drivers are classified
	// test-signed. Production drivers need none: eBPF for Windows' root,
	// Microsoft Root Certificate Authority 2011, is pinned by thumbprint.
	TestRoots []string `toml:"test_roots,omitempty"`
	// RequireHVCI is the least class every driver of every package must
	// have: "" (any, unsigned included), "test-signed" or "production".
	RequireHVCI string `toml:"require_hvci,omitempty"`
	// Require is RequireHVCI per package (name → class), overriding it.
	Require map[string]string `toml:"require,omitempty"`
}

// hvciClasses maps the values of require_hvci to the class they need.
var hvciClasses = map[string]authenticode.Class{"": authenticode.ClassUnsigned, "test-signed": authenticode.ClassTestSigned, "production": authenticode.ClassProduction}

// requiredHVCI is the least class package name's drivers must have.
func (w *Windows) requiredHVCI(name string) authenticode.Class {
	if c, ok := w.Require[name]; ok {
		return hvciClasses[c]
	}
	return hvciClasses[w.RequireHVCI]
}

func (w *Windows) check() error {
	for k, v := range map[string]string{"windows.require_hvci": w.RequireHVCI} {
		if _, ok := hvciClasses[v]; !ok {
			return fmt.Errorf("%s: %s = %q: want \"\", \"test-signed\" or \"production\"", layout.ConfigFile, k, v)
		}
	}
	for name, v := range w.Require {
		if _, ok := hvciClasses[v]; !ok || v == "" {
			return fmt.Errorf("%s: windows.require.%s = %q: want \"test-signed\" or \"production\"", layout.ConfigFile, name, v)
		}
	}
	return nil
}

// Roles lists the TUF roles in the order ebpfrepo handles them.
var Roles = []string{tufrepo.RoleRoot, tufrepo.RoleTargets, tufrepo.RoleBins, tufrepo.RoleSnapshot, tufrepo.RoleTimestamp}

// Default expiry periods.
var defaultExpiry = Expiry{Root: "365d", Targets: "90d", Bins: "90d", Snapshot: "7d", Timestamp: "1d"}

// defaultGrace is how long a build keeps what left the metadata: longer
// than the timestamp's validity and any sane CDN cache lifetime.
const defaultGrace = 3 * 24 * time.Hour

// GracePeriod is how long files that left the metadata stay published
// (Grace, default 3 days; 0 when Grace is "0s").
func (c *Config) GracePeriod() (time.Duration, error) {
	switch c.Grace {
	case "":
		return defaultGrace, nil
	case "0", "0s", "0d":
		return 0, nil
	}
	return parsePeriod("grace", c.Grace)
}

func parsePeriod(field, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 || n > 100*365 {
			return 0, fmt.Errorf("%s: %s: %q: write a number of days such as \"90d\" or a duration such as \"24h\"", layout.ConfigFile, field, s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Minute {
		return 0, fmt.Errorf("%s: %s: %q: write a number of days such as \"90d\" or a duration such as \"24h\" (at least 1m)", layout.ConfigFile, field, s)
	}
	return d, nil
}

// tufConfig converts the configuration into tufrepo's. rootThreshold is
// the root threshold to keep (0 = tufrepo's default).
func (c *Config) tufConfig(rootThreshold int) (tufrepo.Config, error) {
	var tc tufrepo.Config
	var err error
	for _, f := range []struct {
		name string
		val  string
		dst  *time.Duration
	}{
		{"expiry.root", c.Expiry.Root, &tc.RootExpiry},
		{"expiry.targets", c.Expiry.Targets, &tc.TargetsExpiry},
		{"expiry.bins", c.Expiry.Bins, &tc.BinsExpiry},
		{"expiry.snapshot", c.Expiry.Snapshot, &tc.SnapshotExpiry},
		{"expiry.timestamp", c.Expiry.Timestamp, &tc.TimestampExpiry},
	} {
		if *f.dst, err = parsePeriod(f.name, f.val); err != nil {
			return tc, err
		}
	}
	if c.Bins != 0 {
		if c.Bins < 2 || c.Bins > 1<<16 || c.Bins&(c.Bins-1) != 0 {
			return tc, fmt.Errorf("%s: bins: %d: use 0 (sized from the repository) or a power of two from 2 to 65536", layout.ConfigFile, c.Bins)
		}
		tc.BinBits = bits.TrailingZeros(uint(c.Bins))
	}
	tc.RootThreshold = rootThreshold
	return tc, nil
}

func loadConfig(dir string) (*Config, error) {
	p := layout.RepoDir(dir).Config()
	data, err := os.ReadFile(p)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("%s is not an ebpfrepo repository (no %s): create one with ebpfrepo init", dir, layout.ConfigFile)
		}
		return nil, err
	}
	var c Config
	md, err := toml.Decode(string(data), &c)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("%s: unknown key %q (see docs/repository.md)", p, und[0].String())
	}
	if _, err := c.tufConfig(0); err != nil {
		return nil, err
	}
	if _, err := c.GracePeriod(); err != nil {
		return nil, err
	}
	if err := c.Windows.check(); err != nil {
		return nil, err
	}
	return &c, nil
}

const configHeader = `# ebpfrepo repository configuration (docs/repository.md).
#
# name, description  shown in the index and the catalogue
# base_url           public URL the output is served from ("" = unknown)
# bins               number of succinct hash bins, a power of two; 0 = sized from the repository
# verify             run the kernel verifier and the test vectors of every package during build (needs root)
# require_tests      refuse packages without test vectors ([[tests]]); default false
# grace              how long files that left the metadata stay published ("3d" default, "0s" never)
# [expiry]           validity of each role's metadata: "90d" (days) or a Go duration ("24h")
# [keys] dir         directory of the private keys: <role>.pem, root-2.pem …; the environment
#                    variable EBPFREPO_<ROLE>_KEY (PEM text) replaces the files of its role.
#                    Keep root keys offline: build needs targets, bins, snapshot and timestamp.

`

func marshalConfig(c *Config) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(configHeader)
	enc := toml.NewEncoder(&buf)
	enc.Indent = ""
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
