package repo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ebpfrepo/ebpfrepo/internal/atomicfile"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/tufrepo"
)

// GrantOptions is a publisher grant: who may sign which packages.
type GrantOptions struct {
	Publisher string
	KeyFiles  []string // public key files (PEM "PUBLIC KEY"), e.g. from ebpfrepo publisher keygen
	Threshold int      // 0: 1
	Packages  []string // package names, or "prefix*"
}

// GrantPublisher delegates packages to a publisher's keys (replacing the
// publisher's earlier grant: a key rotation is a new grant). It is an
// offline signing event: the targets key must be at hand
// (keys/targets.pem or $EBPFREPO_TARGETS_KEY), and the metadata of record
// gets the next targets version, which the next build publishes.
func (r *Repo) GrantPublisher(ctx context.Context, opts GrantOptions) (tufrepo.Grant, error) {
	g := tufrepo.Grant{Publisher: opts.Publisher, Threshold: opts.Threshold, Packages: opts.Packages}
	if g.Threshold == 0 {
		g.Threshold = 1
	}
	for _, f := range opts.KeyFiles {
		k, err := tufrepo.LoadPublicKey(f)
		if err != nil {
			return g, fmt.Errorf("publisher add %s: %w", opts.Publisher, err)
		}
		g.Keys = append(g.Keys, k)
	}
	err := r.signingEvent(ctx, "publisher add "+opts.Publisher, func(tr *tufrepo.Repo) error {
		st, err := r.loadKeyless(tr)
		if err != nil {
			return err
		}
		if st.pubs != nil {
			for _, p := range st.pubs.Publishers {
				if err := disjoint(g.Publisher, g.Packages, p.Name, p.Packages); err != nil {
					return err
				}
			}
		}
		return tr.Grant(g)
	})
	return g, err
}

// RevokePublisher removes a publisher's grant: its packages become
// unclaimed, signed by the repository from the next build on. An offline
// signing event, like GrantPublisher.
//
// A keyless publisher's grant is removed from publishers.json the same
// way.
func (r *Repo) RevokePublisher(ctx context.Context, publisher string) error {
	return r.signingEvent(ctx, "publisher remove "+publisher, func(tr *tufrepo.Repo) error {
		st, err := r.loadKeyless(tr)
		if err != nil {
			return err
		}
		if next, found := st.pubs.Without(publisher); found {
			data, err := next.Marshal()
			if err != nil {
				return err
			}
			return r.setKeyless(tr, layout.KeylessPublishers, data)
		}
		return tr.Revoke(publisher)
	})
}

// Publishers lists the grants of the metadata of record.
func (r *Repo) Publishers(ctx context.Context) ([]tufrepo.Grant, error) {
	tr, err := tufrepo.Load(ctx, r.paths().Metadata(), tufrepo.Options{})
	if err != nil {
		return nil, err
	}
	return tr.Grants(), nil
}

// signingEvent changes targets with change, saves the metadata of record
// and lists the grants in ebpfrepo.toml.
func (r *Repo) signingEvent(ctx context.Context, op string, change func(*tufrepo.Repo) error) error {
	s, err := r.open(op, time.Time{})
	if err != nil {
		return err
	}
	defer s.close()
	tr, _, err := s.metadata(ctx)
	if err != nil {
		return err
	}
	if err := change(tr); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := s.saveMetadata(ctx, tr); err != nil {
		return err
	}
	r.pruneKeyless(tr)
	r.Config.Publishers = nil
	for _, g := range tr.Grants() {
		r.Config.Publishers = append(r.Config.Publishers, PublisherConfig{Name: g.Publisher, Packages: slices.Clone(g.Packages), KeyIDs: g.KeyIDs(), Threshold: g.Threshold})
	}
	data, err := marshalConfig(r.Config)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(r.paths().Config(), data, 0o644)
}
