package repo

import (
	"context"
	"fmt"
	"time"

	"github.com/ebpfrepo/ebpfrepo/tufrepo"
)

// session is what every operation that changes the repository holds: the
// lock, the clock it was started with, and — loaded once, when first
// needed — the keys and the TUF metadata of record. Build, Timestamp,
// RotateKey and Add start with open instead of each repeating the
// preamble.
type session struct {
	r   *Repo
	op  string    // "build", "timestamp", … (error prefix)
	now time.Time // the content clock: added dates, archive and catalogue times
	// signNow is the signing clock, which expiry dates follow from: the
	// time given, else the current time — never SOURCE_DATE_EPOCH, which
	// pins what a build contains, not when its signatures stop being good.
	signNow time.Time
	unlock  func()

	kr *tufrepo.Keyring
}

// open takes the lock and resolves the clocks: the content clock (now,
// else SOURCE_DATE_EPOCH, else the current time) and the signing clock
// (now, else the current time).
func (r *Repo) open(op string, now time.Time) (*session, error) {
	t, err := resolveNow(now)
	if err != nil {
		return nil, err
	}
	sign := now.UTC().Truncate(time.Second)
	if now.IsZero() {
		sign = time.Now().UTC().Truncate(time.Second)
	}
	unlock, err := r.lock()
	if err != nil {
		return nil, err
	}
	return &session{r: r, op: op, now: t, signNow: sign, unlock: unlock}, nil
}

func (s *session) close() {
	if s.unlock != nil {
		s.unlock()
		s.unlock = nil
	}
}

// keyring loads the private keys at hand, once.
func (s *session) keyring() (*tufrepo.Keyring, error) {
	if s.kr == nil {
		kr, err := s.r.keyring()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.op, err)
		}
		s.kr = kr
	}
	return s.kr, nil
}

// metadata loads the TUF metadata of record, bound to the keys at hand,
// the repository's TUF configuration and the session's clock.
func (s *session) metadata(ctx context.Context) (*tufrepo.Repo, tufrepo.Config, error) {
	tc, err := s.r.Config.tufConfig(0)
	if err != nil {
		return nil, tc, err
	}
	kr, err := s.keyring()
	if err != nil {
		return nil, tc, err
	}
	tr, err := tufrepo.Load(ctx, s.r.paths().Metadata(), tufrepo.Options{Keys: kr, Config: tc, Now: s.signNow, BinCache: s.r.paths().Cache("bins.json")})
	if err != nil {
		return nil, tc, fmt.Errorf("%s: %w", s.op, err)
	}
	return tr, tc, nil
}

// saveMetadata writes the TUF metadata of record, after checking that no
// role in it is expired or about to be by the signing clock: nothing a
// client would reject is ever written.
func (s *session) saveMetadata(ctx context.Context, tr *tufrepo.Repo) error {
	if err := tr.CheckExpiry(s.signNow); err != nil {
		return fmt.Errorf("%s: %w", s.op, err)
	}
	if err := tr.Save(ctx, s.r.paths().Metadata()); err != nil {
		return fmt.Errorf("%s: %w", s.op, err)
	}
	return nil
}
