package site

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"path"
	"strconv"
	"sync"
	"time"
)

//go:embed assets/app.css assets/app.js assets/icon.svg
var assetFS embed.FS

//go:embed templates/*.html
var templateFS embed.FS

// assetNames are the content-hashed paths of the assets, relative to the
// site root: "assets/app.3f2a9c1b7d4e.css".
type assetNames struct {
	CSS, JS, Icon string
}

type templateName string

const (
	tmplHome    templateName = "home"
	tmplPackage templateName = "package"
	tmplTrust   templateName = "trust"
)

var (
	tmplOnce sync.Once
	tmpl     *template.Template
)

func templates() *template.Template {
	tmplOnce.Do(func() {
		tmpl = template.Must(template.New("").Funcs(template.FuncMap{
			"plus1": func(i int) int { return i + 1 },
		}).ParseFS(templateFS, "templates/*.html"))
	})
	return tmpl
}

// hashedName inserts the first 12 hex digits of the content's sha256
// before the extension: assets/app.css → assets/app.<hash>.css.
func hashedName(name string, data []byte) string {
	sum := sha256.Sum256(data)
	ext := path.Ext(name)
	return name[:len(name)-len(ext)] + "." + hex.EncodeToString(sum[:6]) + ext
}

func (w *writer) writeAssets() error {
	for _, a := range []struct {
		src string
		dst *string
	}{
		{"assets/app.css", &w.assets.CSS},
		{"assets/app.js", &w.assets.JS},
		{"assets/icon.svg", &w.assets.Icon},
	} {
		data, err := assetFS.ReadFile(a.src)
		if err != nil {
			return err
		}
		*a.dst = hashedName(a.src, data)
		if err := w.writeFile(*a.dst, data); err != nil {
			return err
		}
	}
	return nil
}

type trustView struct {
	pageBase
	RootHref   string
	RootSHA256 string
	Roles      []roleView
	Bins       int
	RootRole   *roleView
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
