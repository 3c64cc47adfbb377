package tufrepo

import (
	"fmt"
	"time"
)

// Default expiry periods.
const (
	DefaultRootExpiry      = 365 * 24 * time.Hour
	DefaultTargetsExpiry   = 90 * 24 * time.Hour
	DefaultBinsExpiry      = 90 * 24 * time.Hour
	DefaultSnapshotExpiry  = 7 * 24 * time.Hour
	DefaultTimestampExpiry = 24 * time.Hour
)

// Bin sizing for BinBitsFor: what one bin costs a client in
// snapshot.json, and what one target costs it in the bin it fetches
// (measured on ebpfrepo's own metadata: "bins-0ab.json":{"version":N},
// and a target path, length and sha256).
const (
	SnapshotBytesPerBin = 32
	BinBytesPerTarget   = 160
	TargetsPerBin       = 64 // and never fewer targets per bin than this on average
	MinBinBits          = 1  // 2 bins
	MaxBinBits          = 16 // 65536 bins
)

// Config sets expiry periods, bins and the root threshold. The zero
// value of every field means its default.
type Config struct {
	// Expiry periods: a role signed at time now expires at now+period,
	// truncated to whole seconds (UTC). Defaults 365d, 90d, 90d, 7d, 1d.
	RootExpiry, TargetsExpiry, BinsExpiry, SnapshotExpiry, TimestampExpiry time.Duration
	// BinBits is the bit length of the succinct hashed bins (2^BinBits
	// bins), 1 … 16. 0 means automatic: BinBitsFor(number of targets),
	// but never fewer than the repository already has.
	BinBits int
	// RootThreshold is the number of root keys that must sign a root,
	// used by Init; 0 means all root keys. (ReplaceKeys changes it later.)
	RootThreshold int
}

func (c Config) withDefaults() (Config, error) {
	for _, p := range []struct {
		name string
		d    *time.Duration
		def  time.Duration
	}{
		{"root", &c.RootExpiry, DefaultRootExpiry},
		{"targets", &c.TargetsExpiry, DefaultTargetsExpiry},
		{"bins", &c.BinsExpiry, DefaultBinsExpiry},
		{"snapshot", &c.SnapshotExpiry, DefaultSnapshotExpiry},
		{"timestamp", &c.TimestampExpiry, DefaultTimestampExpiry},
	} {
		switch {
		case *p.d == 0:
			*p.d = p.def
		case *p.d < time.Second:
			return c, fmt.Errorf("tufrepo: config: %s expiry %v: must be at least one second (0 means the default %v)", p.name, *p.d, p.def)
		}
	}
	if c.BinBits != 0 && (c.BinBits < MinBinBits || c.BinBits > MaxBinBits) {
		return c, fmt.Errorf("tufrepo: config: bin bits %d: must be %d … %d (0 means automatic)", c.BinBits, MinBinBits, MaxBinBits)
	}
	if c.RootThreshold < 0 {
		return c, fmt.Errorf("tufrepo: config: root threshold %d: must not be negative", c.RootThreshold)
	}
	return c, nil
}

// period returns the expiry period of role (a bin's is BinsExpiry).
func (c Config) period(role string) time.Duration {
	switch role {
	case RoleRoot:
		return c.RootExpiry
	case RoleTargets:
		return c.TargetsExpiry
	case RoleSnapshot:
		return c.SnapshotExpiry
	case RoleTimestamp:
		return c.TimestampExpiry
	default:
		return c.BinsExpiry
	}
}

// expiry is the expiry date of metadata signed at now: whole seconds,
// UTC (other TUF implementations reject fractional seconds).
func (c Config) expiry(role string, now time.Time) time.Time {
	return now.UTC().Truncate(time.Second).Add(c.period(role)).Truncate(time.Second)
}

// stale reports whether metadata of role expiring at exp should be
// re-signed at now even if unchanged: it expires within half its period.
func (c Config) stale(role string, exp, now time.Time) bool {
	return exp.Sub(now) < c.period(role)/2
}

// BinBitsFor returns the bin bit length for n targets. Two things bound
// it: what a client downloads to look one target up — snapshot.json lists
// every bin, the one bin it fetches lists n/bins targets, so
// SnapshotBytesPerBin·bins + BinBytesPerTarget·n/bins is least near
// sqrt(5n) bins — and no more bins than TargetsPerBin targets each on
// average (small repositories keep few files). The smaller wins: 0–128
// targets → 2 bins, 10,000 versions (31,000 targets) → 512 bins (26 KB
// per client), 100,000 versions (310,000) → 1,024 bins (81 KB; 64
// targets per bin alone would give 8,192 bins and a 262 KB snapshot).
// At least MinBinBits, at most MaxBinBits.
func BinBitsFor(n int) int {
	spread := MinBinBits // the fewest bits with ≤ TargetsPerBin targets per bin
	for spread < MaxBinBits && n > TargetsPerBin<<spread {
		spread++
	}
	cost := func(b int) int { return SnapshotBytesPerBin<<b + BinBytesPerTarget*n>>b }
	best := MinBinBits
	for b := MinBinBits + 1; b <= MaxBinBits; b++ {
		if cost(b) < cost(best) {
			best = b
		}
	}
	return min(best, spread)
}
