package site

import (
	"context"
	"strings"
	"testing"

	"github.com/ebpfrepo/ebpfrepo/index"

	"github.com/chromedp/chromedp"
)

// overflowJS lists elements whose box reaches past the viewport's right
// edge, leaving out those inside a container that scrolls sideways (a
// table or a snippet that says it scrolls is fine; a page that does not
// fit is not).
const overflowJS = `(() => {
  const w = document.documentElement.clientWidth, out = [];
  if (document.documentElement.scrollWidth > w + 1) out.push('page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + w);
  const scrolls = e => { for (let p = e.parentElement; p; p = p.parentElement) { const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return true; } return false; };
  document.querySelectorAll('body *').forEach(e => {
    const r = e.getBoundingClientRect();
    if (r.width && r.right > w + 1 && !scrolls(e) && getComputedStyle(e).position !== 'fixed') out.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + String(e.className).split(' ')[0] : '') + ' right=' + Math.round(r.right));
  });
  return out.slice(0, 8);
})()`

// TestBrowserResponsive: at a phone's 390×844 and a laptop's 1280×900, a
// package page shows its install box within the first screen and nothing
// overflows sideways; the home page fits too; the Copy button does not
// cover the snippet's text; the l3afd entry wraps instead of clipping.
func TestBrowserResponsive(t *testing.T) {
	ctx, ev := newBrowser(t)
	dir := t.TempDir()
	d := browserData(t)
	keylessSigned(t, d, "tc-stats")
	if err := Write(context.Background(), dir, d); err != nil {
		t.Fatal(err)
	}
	base, _ := serveSubPath(t, dir)
	for _, vp := range []struct {
		name string
		w, h int64
	}{{"phone", 390, 844}, {"laptop", 1280, 900}} {
		t.Run(vp.name, func(t *testing.T) {
			step(t, ctx, "viewport", chromedp.EmulateViewport(vp.w, vp.h),
				chromedp.Navigate(base+"packages/ratelimiting/index.html"),
				chromedp.WaitReady(chromedp.CSS(`html[data-js="ready"]`)))
			top := eval[float64](t, ctx, `document.getElementById('install-h').getBoundingClientRect().top`)
			if top < 0 || top > float64(vp.h)-60 {
				t.Errorf("the install box starts at %.0f px, not within the first screen (%d px)", top, vp.h)
			}
			if bad := eval[[]string](t, ctx, overflowJS); len(bad) > 0 {
				t.Errorf("package page overflows: %s", strings.Join(bad, "; "))
			}
			covered := eval[bool](t, ctx, `(() => {
			  const pre = document.querySelector('#install-h ~ pre.snippet, #install-h + * pre.snippet, section[aria-labelledby="install-h"] pre.snippet');
			  if (!pre) return true;
			  const b = pre.querySelector('.copy').getBoundingClientRect();
			  const r = document.createRange(); r.selectNodeContents(pre.querySelector('code'));
			  return Array.from(r.getClientRects()).some(t => t.right > b.left && t.left < b.right && t.bottom > b.top && t.top < b.bottom);
			})()`)
			if covered {
				t.Error("the Copy button covers the install snippet's text")
			}
			if w := eval[string](t, ctx, `getComputedStyle(document.querySelector('section[aria-labelledby="l3afd-h"] pre')).whiteSpace`); w != "pre-wrap" {
				t.Errorf("the l3afd entry does not wrap (white-space %s)", w)
			}
			screenshot(t, ctx, "package-"+vp.name+".png")
			step(t, ctx, "home", chromedp.Navigate(base), chromedp.WaitReady(chromedp.CSS(`html[data-js="ready"]`)))
			if bad := eval[[]string](t, ctx, overflowJS); len(bad) > 0 {
				t.Errorf("home page overflows: %s", strings.Join(bad, "; "))
			}
			// A keyless publisher's page: its "Who signed it?" card holds
			// long workflow URLs, which must wrap.
			step(t, ctx, "keyless", chromedp.Navigate(base+"packages/tc-stats/index.html"), chromedp.WaitReady(chromedp.CSS(`html[data-js="ready"]`)))
			if !eval[bool](t, ctx, `!!document.getElementById('keyless-h')`) {
				t.Error("the keyless package's page has no \"Who signed it?\" card")
			}
			if bad := eval[[]string](t, ctx, overflowJS); len(bad) > 0 {
				t.Errorf("keyless package page overflows: %s", strings.Join(bad, "; "))
			}
			step(t, ctx, "trust", chromedp.Navigate(base+"trust.html"), chromedp.WaitReady(chromedp.CSS(`html[data-js="ready"]`)))
			if bad := eval[[]string](t, ctx, overflowJS); len(bad) > 0 {
				t.Errorf("trust page overflows: %s", strings.Join(bad, "; "))
			}
			ev.check(t, vp.name)
		})
	}
}

// TestBrowserThemeAndSort: the theme toggle cycles system → dark → light
// and is remembered; "Recently updated" orders the cards by their date;
// the 404 page renders without errors.
func TestBrowserThemeAndSort(t *testing.T) {
	ctx, ev := newBrowser(t)
	dir := t.TempDir()
	if err := Write(context.Background(), dir, browserData(t)); err != nil {
		t.Fatal(err)
	}
	base, _ := serveSubPath(t, dir)
	step(t, ctx, "home", chromedp.Navigate(base), chromedp.WaitReady(chromedp.CSS(`html[data-js="ready"]`)))
	for _, want := range []string{"dark", "light", ""} {
		step(t, ctx, "toggle", chromedp.Click(chromedp.CSS("#theme-toggle")))
		if got := eval[string](t, ctx, `document.documentElement.getAttribute('data-theme') || ''`); got != want {
			t.Errorf("after a click the theme is %q, want %q", got, want)
		}
	}
	step(t, ctx, "toggle", chromedp.Click(chromedp.CSS("#theme-toggle")), chromedp.Reload(), chromedp.WaitReady(chromedp.CSS(`html[data-js="ready"]`)))
	if got := eval[string](t, ctx, `document.documentElement.getAttribute('data-theme') || ''`); got != "dark" {
		t.Errorf("after a reload the theme is %q, want the one chosen (dark)", got)
	}
	if bg := eval[string](t, ctx, `getComputedStyle(document.body).backgroundColor`); bg != "rgb(15, 18, 22)" {
		t.Errorf("dark theme chosen, body background %s", bg)
	}
	step(t, ctx, "sort", setSelect("sort", "updated"))
	dates := eval[[]string](t, ctx, `Array.from(document.querySelectorAll('#packages > li')).filter(li => !li.hidden).map(li => li.dataset.updated)`)
	for i := 1; i < len(dates); i++ {
		if dates[i] > dates[i-1] {
			t.Errorf("sorted by update: %v", dates)
			break
		}
	}
	step(t, ctx, "404", chromedp.Navigate(base+NotFoundPage), chromedp.WaitReady(chromedp.CSS(`html[data-js="ready"]`)))
	if h := eval[string](t, ctx, `document.querySelector('h1').textContent`); h != "Not found" {
		t.Errorf("404 page heading %q", h)
	}
	ev.check(t, "theme, sort, 404")
}

// keylessSigned gives every version of package name the signing record
// of a keyless publisher, as a build writes it.
func keylessSigned(t *testing.T, d *Data, name string) {
	t.Helper()
	for _, p := range d.Packages {
		if p.Name != name {
			continue
		}
		for i := range p.Versions {
			wf := "https://github.com/acme-long-organisation-name/" + name + "/.github/workflows/release-and-attest.yml@refs/tags/v" + p.Versions[i].Version
			sig := index.RepositorySigned()
			sig.Package = index.PackageSignature{Signer: index.SignerPublisher, Publisher: "acme-ci", Role: "unclaimed", Keyless: &index.KeylessSignature{
				Publisher: "acme-ci", Kind: "dsse", Identity: wf, Issuer: "https://token.actions.githubusercontent.com",
				Repository: "https://github.com/acme-long-organisation-name/" + name, Ref: "refs/tags/v" + p.Versions[i].Version,
				Commit: "0123456789abcdef0123456789abcdef01234567", Workflow: wf, Log: index.PublicGoodRekor,
				LogID: "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d", LogIndex: 123456789, IntegratedTime: fixtureTime}}
			p.Versions[i].Signatures = &sig
		}
		return
	}
	t.Fatalf("no package %s in the data", name)
}
