package site

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"path"
	"sync"
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
	tmplHome     templateName = "home"
	tmplPackage  templateName = "package"
	tmplTrust    templateName = "trust"
	tmplNotFound templateName = "notfound"
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
