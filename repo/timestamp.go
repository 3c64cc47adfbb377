package repo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ebpfrepo/ebpfrepo/internal/atomicfile"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/tufrepo"
)

// TimestampOptions configures Timestamp. The zero value means defaults.
type TimestampOptions struct {
	OutDir string    // the published output to update (default REPO_DIR/public; skipped if it does not exist)
	Now    time.Time // zero: SOURCE_DATE_EPOCH, else the current time
	// Warn, if set, is told of every other role that expires within half
	// its period: timestamp alone cannot renew those, a build (with their
	// keys) must, before clients start failing.
	Warn func(msg string)
}

// Timestamp re-signs timestamp.json only (a new version and expiry) in
// REPO_DIR/metadata and, if it exists, in the published output, where the
// file is replaced atomically. Only the timestamp key is needed.
func (r *Repo) Timestamp(ctx context.Context, opts TimestampOptions) error {
	out, err := r.outDir(opts.OutDir)
	if err != nil {
		return err
	}
	s, err := r.open("timestamp", opts.Now)
	if err != nil {
		return err
	}
	defer s.close()
	tr, _, err := s.metadata(ctx)
	if err != nil {
		return err
	}
	if err := tr.Timestamp(); err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	if opts.Warn != nil {
		for _, role := range tr.Expiring() {
			if role == tufrepo.RoleTimestamp {
				continue
			}
			how := "run ebpfrepo build (with its key) to renew it"
			if role == tufrepo.RoleRoot {
				how = "renew it with the root keys (docs/keys.md)"
			}
			opts.Warn(fmt.Sprintf("%s metadata expires within half its validity period; %s", role, how))
		}
	}
	var data []byte
	for name, b := range tr.Files() {
		if layout.Metadata(strings.TrimPrefix(filepath.ToSlash(name), layout.MetadataDir+"/")) == layout.Timestamp {
			data = b
		}
	}
	if data == nil {
		return fmt.Errorf("timestamp: tufrepo returned no timestamp.json")
	}
	if err := s.saveMetadata(ctx, tr); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(out, layout.MetadataDir)); err != nil {
		return nil // not built yet: the next build publishes it
	}
	if err := atomicfile.WriteFile(filepath.Join(out, filepath.FromSlash(layout.Timestamp)), data, 0o644); err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	return nil
}
