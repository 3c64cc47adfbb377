package tufrepo

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// ExpiryMargin is how far in the future every published role's expiry
// must be when it is written: a role that expires sooner would reach
// clients (through caches and CDNs) already dead or about to be.
const ExpiryMargin = time.Hour

// Expiry is one role's expiry date.
type Expiry struct {
	Role    string // "root", "targets", "pub-acme", "unclaimed", "bins-3f", "snapshot", "timestamp"
	Expires time.Time
}

// Expiries lists the expiry of every current role, root first and
// timestamp last, bins and publisher roles by name.
func (r *Repo) Expiries() []Expiry {
	if !r.ready() {
		return nil
	}
	out := []Expiry{{RoleRoot, r.root().Signed.Expires}, {RoleTargets, r.targets.md.Signed.Expires}}
	var pubs []string
	for n := range r.pubs {
		pubs = append(pubs, n)
	}
	sort.Strings(pubs)
	for _, n := range pubs {
		out = append(out, Expiry{n, r.pubs[n].md.Signed.Expires})
	}
	if r.unclaimed.md != nil {
		out = append(out, Expiry{RoleUnclaimed, r.unclaimed.md.Signed.Expires})
	}
	var bins []string
	for n := range r.bins {
		bins = append(bins, n)
	}
	sort.Strings(bins)
	for _, n := range bins {
		out = append(out, Expiry{n, r.bins[n].expires})
	}
	return append(out, Expiry{RoleSnapshot, r.snapshot.md.Signed.Expires}, Expiry{RoleTimestamp, r.timestamp.md.Signed.Expires})
}

// ExpiredError reports roles that are expired, or expire within
// ExpiryMargin, at the time metadata was about to be published. Nothing
// was written.
type ExpiredError struct {
	Now   time.Time // the clock checked against
	Roles []Expiry  // the roles too close to (or past) expiry
}

func (e *ExpiredError) Error() string {
	var b strings.Builder
	for i, x := range e.Roles {
		if i > 0 {
			b.WriteString("; ")
		}
		state := "expires"
		if !x.Expires.After(e.Now) {
			state = "expired"
		}
		fmt.Fprintf(&b, "%s %s %s", x.Role, state, x.Expires.UTC().Format(time.RFC3339))
		if how := RenewHint(x.Role); how != "" {
			b.WriteString(" (" + how + ")")
		}
	}
	return fmt.Sprintf("refusing to publish metadata that clients would reject: at %s, %s", e.Now.UTC().Format(time.RFC3339), b.String())
}

// RenewHint says how a role is renewed.
func RenewHint(role string) string {
	switch {
	case role == RoleRoot:
		return "renew it with the root keys: ebpfrepo keys rotate --role root, docs/keys.md"
	case role == RoleTargets:
		return "sign it with the targets key: ebpfrepo build with keys/targets.pem present"
	case strings.HasPrefix(role, PublisherPrefix):
		return "its publisher must sign it again: ebpfrepo sign"
	default:
		return "ebpfrepo timestamp or build renews it with the online keys"
	}
}

// CheckExpiry returns an *ExpiredError listing every role that expires
// before now+ExpiryMargin; nil if none does.
func (r *Repo) CheckExpiry(now time.Time) error {
	var bad []Expiry
	for _, x := range r.Expiries() {
		if x.Expires.Before(now.Add(ExpiryMargin)) {
			bad = append(bad, x)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return &ExpiredError{Now: now, Roles: bad}
}
