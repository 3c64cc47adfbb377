package site

import (
	"strconv"
	"time"
)

type trustView struct {
	pageBase
	RootHref   string
	RootSHA256 string
	Roles      []roleView
	Bins       int
	RootRole   *roleView
	PinSnippet snippet
}

type roleView struct {
	Name      string
	Version   int64
	Expires   string
	ExpiresAt string
	ExpiresIn string
	Threshold int
	KeyIDs    []string
}

func (w *writer) trust() *trustView {
	t := &w.d.Trust
	tv := &trustView{pageBase: w.base("", "trust", "Trust · "+w.d.Repository), RootHref: t.RootPath, RootSHA256: t.RootSHA256, Bins: t.Bins}
	for _, r := range t.Roles {
		rv := roleView{Name: r.Name, Version: r.Version, Expires: formatTime(r.Expires),
			ExpiresAt: r.Expires.UTC().Format(time.RFC3339), ExpiresIn: untilText(w.d.Generated, r.Expires),
			Threshold: r.Threshold, KeyIDs: r.KeyIDs}
		tv.Roles = append(tv.Roles, rv)
	}
	if t.RootPath != "" && t.RootSHA256 != "" {
		tv.PinSnippet = w.snippet("curl -fsSLo root.json {repo}/%s\necho \"%s  root.json\" | sha256sum -c -", t.RootPath, t.RootSHA256)
	}
	for i := range tv.Roles {
		if tv.Roles[i].Name == "root" {
			tv.RootRole = &tv.Roles[i]
		}
	}
	return tv
}

// untilText is "in 365 days" / "in 23 hours" / "expired", relative to the
// build time.
func untilText(from, to time.Time) string {
	if from.IsZero() || to.IsZero() {
		return ""
	}
	d := to.Sub(from)
	switch {
	case d <= 0:
		return "expired at build time"
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour") + " after the build"
	default:
		return plural(int(d/(24*time.Hour)), "day") + " after the build"
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}
