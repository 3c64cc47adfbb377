package repo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ebpfrepo/ebpfrepo/internal/outtree"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/tufrepo"
)

// TimestampOptions configures Timestamp. The zero value means defaults.
type TimestampOptions struct {
	OutDir string    // the published output to update (default REPO_DIR/public; skipped if it does not exist)
	Now    time.Time // the signing time; zero: the current time (never SOURCE_DATE_EPOCH)
	// Warn, if set, is told of every role that expires within half its
	// period and that Timestamp could not renew (an offline role, or an
	// online one whose key is not at hand), and how to renew it.
	Warn func(msg string)
}

// TimestampResult says what Timestamp re-signed and published.
type TimestampResult struct {
	Resigned  []string `json:"resigned"`  // roles re-signed: "timestamp", and "snapshot" and bins by name when they needed it
	Published []string `json:"published"` // files written into the output, timestamp.json last
}

// Timestamp renews the online roles without a rebuild: timestamp.json
// always (a new version and expiry), and snapshot, bins and unclaimed
// when they expire within half their period and their keys are at hand.
// It writes them to REPO_DIR/metadata and, if it exists, into the
// published output in place — new versioned files first, timestamp.json
// last, each replaced atomically. It refuses to write anything if a role
// would be published expired or about to be, naming the role and the
// signing event it needs.
func (r *Repo) Timestamp(ctx context.Context, opts TimestampOptions) (*TimestampResult, error) {
	out, err := r.outDir(opts.OutDir)
	if err != nil {
		return nil, err
	}
	s, err := r.open("timestamp", opts.Now)
	if err != nil {
		return nil, err
	}
	defer s.close()
	tr, _, err := s.metadata(ctx)
	if err != nil {
		return nil, err
	}
	before := tr.Digests()
	res := &TimestampResult{}
	if rr, rerr := tr.Refresh(); rerr == nil {
		res.Resigned = rr.Changed
		if !slices.Contains(res.Resigned, tufrepo.RoleTimestamp) {
			if err := tr.Timestamp(); err != nil {
				return nil, fmt.Errorf("timestamp: %w", err)
			}
			res.Resigned = append(res.Resigned, tufrepo.RoleTimestamp)
		}
	} else {
		// A stale role whose key is not here (targets is offline): renew
		// what the timestamp key can, and say what needs a signing event.
		if err := tr.Timestamp(); err != nil {
			return nil, fmt.Errorf("timestamp: %w", err)
		}
		res.Resigned = []string{tufrepo.RoleTimestamp}
		if opts.Warn != nil {
			opts.Warn(fmt.Sprintf("only timestamp was renewed: %v", rerr))
		}
	}
	if opts.Warn != nil {
		warnExpiring(tr, s.signNow, opts.Warn)
	}
	if err := s.saveMetadata(ctx, tr); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(out, layout.MetadataDir)); err != nil {
		return res, nil // not built yet: the next build publishes it
	}
	files := map[string][]byte{}
	for name, sum := range tr.Digests() {
		rel := layout.Metadata(strings.TrimPrefix(filepath.ToSlash(name), layout.MetadataDir+"/"))
		if old, ok := before[name]; ok && old == sum && rel != layout.Timestamp {
			continue
		}
		data, err := tr.File(name)
		if err != nil {
			return nil, err
		}
		files[rel] = data
	}
	for rel := range files {
		res.Published = append(res.Published, rel)
	}
	slices.Sort(res.Published)
	if i := slices.Index(res.Published, layout.Timestamp); i >= 0 {
		res.Published = append(slices.Delete(res.Published, i, i+1), layout.Timestamp)
	}
	if err := outtree.AddToLive(out, files); err != nil {
		return nil, fmt.Errorf("timestamp: %s: %w", out, err)
	}
	return res, nil
}

// warnExpiring tells warn of every role other than timestamp that expires
// within half its period at now, with how to renew it.
func warnExpiring(tr *tufrepo.Repo, now time.Time, warn func(string)) {
	stale := map[string]bool{}
	for _, role := range tr.Expiring() {
		stale[role] = true
	}
	for _, x := range tr.Expiries() {
		if x.Role == tufrepo.RoleTimestamp || !stale[x.Role] {
			continue
		}
		state := "expires " + x.Expires.UTC().Format(time.RFC3339) + ", within half its validity period"
		if !x.Expires.After(now) {
			state = "expired on " + x.Expires.UTC().Format(time.RFC3339)
		}
		warn(fmt.Sprintf("%s metadata %s; %s", x.Role, state, tufrepo.RenewHint(x.Role)))
	}
}
