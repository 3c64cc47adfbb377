package site

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"
)

// findChromium returns the browser the browser tests drive, or "" when
// the machine has none (CI installs Debian's chromium).
func findChromium() string {
	if p := os.Getenv("EBPFREPO_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browserEvents records what would show up in red in the DevTools: console
// errors, uncaught exceptions, log entries of level error (CSP violations
// among them) and failed or unsuccessful requests.
type browserEvents struct {
	mu       sync.Mutex
	problems []string
	requests []string
}

func (b *browserEvents) add(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch e := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		b.problems = append(b.problems, fmt.Sprintf("exception: %s at %s:%d", msg, d.URL, d.LineNumber))
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert || e.Type == runtime.ConsoleAPICalledTypeWarning {
			var args []string
			for _, a := range e.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			b.problems = append(b.problems, fmt.Sprintf("console.%s: %s", e.Type, strings.Join(args, " ")))
		}
	case *cdplog.EventEntryAdded:
		if e.Entry.Level == cdplog.EntryLevelError || e.Entry.Level == cdplog.EntryLevelWarning {
			b.problems = append(b.problems, fmt.Sprintf("log %s (%s): %s %s", e.Entry.Level, e.Entry.Source, e.Entry.Text, e.Entry.URL))
		}
	case *network.EventLoadingFailed:
		b.problems = append(b.problems, fmt.Sprintf("request failed: %s %s (blocked: %s)", e.Type, e.ErrorText, e.BlockedReason))
	case *network.EventResponseReceived:
		b.requests = append(b.requests, e.Response.URL)
		if e.Response.Status >= 400 {
			b.problems = append(b.problems, fmt.Sprintf("HTTP %d for %s", e.Response.Status, e.Response.URL))
		}
	}
}

func (b *browserEvents) check(t *testing.T, step string) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		t.Errorf("%s: %s", step, p)
	}
	b.problems = nil
}

// newBrowser starts a fresh headless chromium for one test.
func newBrowser(t *testing.T) (context.Context, *browserEvents) {
	t.Helper()
	exe := findChromium()
	if exe == "" {
		t.Skip("no chromium binary found (install Debian's chromium, or set EBPFREPO_CHROMIUM); the browser test needs a real browser")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancel(); acancel() })
	if err := chromedp.Do(ctx); err != nil { // start the browser, open the tab
		t.Fatalf("start %s: %v", exe, err)
	}
	ev := new(browserEvents)
	if err := chromedp.Listen(ctx, ev.add); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	return ctx, ev
}

// step runs browser actions with a bound on the wait, so a broken page
// fails the test instead of hanging it.
func step(t *testing.T, ctx context.Context, name string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

const visibleJS = `Array.from(document.querySelectorAll('#packages > li')).filter(li => !li.hidden).map(li => li.dataset.name)`

// setSelect changes a filter the way a user's selection does: value, then
// a change event.
func setSelect(id, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`(() => { const s = document.getElementById(%q); s.value = %q; s.dispatchEvent(new Event('change', {bubbles: true})); })()`, id, value))
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("EBPFREPO_SCREENSHOTS")
	if dir == "" {
		return
	}
	png := eval2(t, ctx, chromedp.CaptureScreenshot())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", filepath.Join(dir, name))
}

func eval2[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// serveSubPath serves dir under /some/sub/ on 127.0.0.1, and records
// every response status the server sent.
func serveSubPath(t *testing.T, dir string) (base string, notFound func() []string) {
	t.Helper()
	var (
		mu   sync.Mutex
		miss []string
	)
	files := http.StripPrefix("/some/sub", http.FileServer(http.Dir(dir)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/some/sub/") {
			mu.Lock()
			miss = append(miss, r.URL.Path)
			mu.Unlock()
			http.NotFound(w, r)
			return
		}
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(r.URL.Path, "/some/sub/")))); err != nil {
			mu.Lock()
			miss = append(miss, r.URL.Path)
			mu.Unlock()
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/some/sub/", func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(miss)
	}
}

// TestBrowser drives a real headless chromium through the catalogue,
// served under a sub-path: search as you type, filters, a package page
// opened by clicking, the version selector, and a hostile README whose
// scripts must not run. Any console error, exception, CSP violation or
// failed request fails it. With EBPFREPO_SCREENSHOTS=DIR it saves
// home.png and package.png there.
func TestBrowser(t *testing.T) {
	ctx, ev := newBrowser(t)
	dir := t.TempDir()
	data := browserData(t)
	if err := Write(context.Background(), dir, data); err != nil {
		t.Fatal(err)
	}
	base, notFound := serveSubPath(t, dir)

	step(t, ctx, "load home", chromedp.Navigate(base),
		chromedp.WaitVisible(chromedp.CSS("#q")),
		chromedp.WaitReady(chromedp.CSS(`html[data-search="ready"]`)))
	all := eval[[]string](t, ctx, visibleJS)
	if len(all) < 3 {
		t.Fatalf("home lists %q", all)
	}
	ev.check(t, "home")
	checkA11y(t, ctx, "home")
	screenshot(t, ctx, "home.png")

	// Keyboard: "/" focuses the search box from anywhere on the page.
	step(t, ctx, "slash", chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`), chromedp.KeyEvent("/"))
	if id := eval[string](t, ctx, `document.activeElement.id`); id != "q" {
		t.Errorf("after '/', focus is on %q, want the search box", id)
	}

	w, err := newWriter("", data)
	if err != nil {
		t.Fatal(err)
	}
	_, si := w.home()
	helper := helperOnlyTerm(si)
	if helper == "" {
		t.Fatal("no helper name occurs only in search.json; the test data cannot show that search uses it")
	}
	for _, tt := range []struct {
		name, query, typ, platform string
		empty                      bool
	}{
		// A helper name: only search.json knows it, the page does not show it.
		{name: "helper", query: helper},
		{name: "keyword and type", query: "xdp"},
		{name: "two terms", query: "limit tcp"},
		{name: "description", query: "ring buffer"},
		{name: "nothing", query: "no-such-package-anywhere", empty: true},
		{name: "type filter", typ: "tc"},
		{name: "platform filter", platform: "Windows"},
		{name: "filter and query", query: "xdp", platform: "focal"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			step(t, ctx, "search", clearSearch(),
				setSelect("filter-type", tt.typ), setSelect("filter-platform", tt.platform))
			if tt.query != "" {
				step(t, ctx, "type", chromedp.SendKeys(chromedp.CSS("#q"), tt.query))
			}
			got := eval[[]string](t, ctx, visibleJS)
			want := expectedHits(si, tt.query, tt.typ, tt.platform)
			if (len(want) == 0) != tt.empty {
				t.Fatalf("test data: %q type=%q platform=%q matches %q", tt.query, tt.typ, tt.platform, want)
			}
			if diff := cmp.Diff(want, append([]string{}, slices.Sorted(slices.Values(got))...)); diff != "" {
				t.Errorf("visible packages for %q type=%q platform=%q (-want +got):\n%s", tt.query, tt.typ, tt.platform, diff)
			}
			if empty := eval[bool](t, ctx, `!document.getElementById('no-results').hidden`); empty != tt.empty {
				t.Errorf("no-results message shown = %v with %d results", empty, len(want))
			}
			count := eval[string](t, ctx, `document.getElementById('result-count').textContent`)
			if prefix := fmt.Sprintf("%d of %d", len(want), len(si.Packages)); !strings.HasPrefix(count, prefix) {
				t.Errorf("result count %q, want prefix %q", count, prefix)
			}
		})
	}
	// Ranking: an exact name comes first.
	step(t, ctx, "rank", clearSearch(), setSelect("filter-type", ""), setSelect("filter-platform", ""),
		chromedp.SendKeys(chromedp.CSS("#q"), "xdp-root"))
	if got := eval[[]string](t, ctx, visibleJS); len(got) == 0 || got[0] != "xdp-root" {
		t.Errorf("search for xdp-root lists %q", got)
	}

	// Open a package page by clicking its search result.
	step(t, ctx, "open package", clearSearch(),
		setSelect("filter-type", ""), setSelect("filter-platform", ""),
		chromedp.SendKeys(chromedp.CSS("#q"), "rate"),
		chromedp.Click(chromedp.CSS(`#packages li[data-name="ratelimiting"] h3 a`)),
		chromedp.WaitVisible(chromedp.CSS(`.pkg-header h1`)),
		chromedp.WaitReady(chromedp.CSS(`html[data-js="ready"]`)))
	loc := eval[string](t, ctx, `location.href`)
	// http.FileServer redirects …/index.html to …/.
	if !strings.HasSuffix(loc, "/some/sub/packages/ratelimiting/index.html") && !strings.HasSuffix(loc, "/some/sub/packages/ratelimiting/") {
		t.Errorf("clicked through to %s", loc)
	}
	if h1 := eval[string](t, ctx, `document.querySelector('.pkg-header h1').textContent`); !strings.HasPrefix(h1, "ratelimiting") {
		t.Errorf("package page heading %q", h1)
	}
	// The install snippet names the repository the page came from.
	if got := eval[string](t, ctx, `document.querySelector('.snippet code').textContent`); !strings.Contains(got, base[:len(base)-1]+" ") {
		t.Errorf("install snippet %q does not name %s", got, base)
	}
	ev.check(t, "package page")
	checkA11y(t, ctx, "package page")
	screenshot(t, ctx, "package.png")

	// The version menu moves to another version's page.
	step(t, ctx, "select version", chromedp.Click(chromedp.CSS(`#version-menu summary`)),
		chromedp.WaitVisible(chromedp.CSS(`#version-menu a[href="1.0.0.html"]`)),
		chromedp.Click(chromedp.CSS(`#version-menu a[href="1.0.0.html"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.notice`)))
	if loc := eval[string](t, ctx, `location.pathname`); loc != "/some/sub/packages/ratelimiting/1.0.0.html" {
		t.Errorf("version menu went to %s", loc)
	}
	if h1 := eval[string](t, ctx, `document.querySelector('.pkg-header h1').textContent`); !strings.Contains(h1, "1.0.0") {
		t.Errorf("version page heading %q", h1)
	}

	// A hostile README renders inert.
	step(t, ctx, "hostile page", chromedp.Navigate(base+"packages/readme-xss/index.html"),
		chromedp.WaitVisible(chromedp.CSS(`.markdown`)),
		chromedp.WaitReady(chromedp.CSS(`html[data-js="ready"]`)))
	// Give any injected handler the chance to fire.
	step(t, ctx, "poke", chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('.markdown *:not(a)').forEach(e => { e.dispatchEvent(new MouseEvent('click', {bubbles: true})); e.dispatchEvent(new Event('load')); })`))
	if xss := eval[string](t, ctx, `typeof window.__xss`); xss != "undefined" {
		t.Errorf("a hostile README ran script: window.__xss is %s (%v)", xss, eval[any](t, ctx, `window.__xss`))
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('.markdown script, .markdown iframe, .markdown img, .markdown [onerror], .markdown [onclick], .markdown a[href^="javascript"]').length`); n != 0 {
		t.Errorf("%d active elements in the rendered README", n)
	}

	// The trust page, through the navigation.
	step(t, ctx, "trust", chromedp.Click(chromedp.CSS(`nav a[href$="trust.html"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#pin-h`)))
	checkA11y(t, ctx, "trust page")
	ev.check(t, "hostile and trust pages")
	if miss := notFound(); len(miss) > 0 {
		t.Errorf("the pages requested missing files: %q", miss)
	}
}

// TestBrowserFile opens the catalogue from file://, where fetch is
// blocked: the list, the script and the search over the page itself must
// still work without errors.
func TestBrowserFile(t *testing.T) {
	ctx, ev := newBrowser(t)
	dir := t.TempDir()
	if err := Write(context.Background(), dir, fixtureData()); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "load", chromedp.Navigate("file://"+filepath.ToSlash(filepath.Join(dir, "index.html"))),
		chromedp.WaitVisible(chromedp.CSS("#q")),
		chromedp.SendKeys(chromedp.CSS("#q"), "exec"))
	if diff := cmp.Diff([]string{"execsnoop"}, eval[[]string](t, ctx, visibleJS)); diff != "" {
		t.Errorf("search from file:// (-want +got):\n%s", diff)
	}
	step(t, ctx, "open", chromedp.Click(chromedp.CSS(`#packages li[data-name="execsnoop"] h3 a`)),
		chromedp.WaitVisible(chromedp.CSS(`.pkg-header h1`)))
	ev.check(t, "file://")
}

// TestBrowserDark checks the package page in dark mode for console errors,
// failed requests and CSP violations (and saves a screenshot when asked
// to, with EBPFREPO_SCREENSHOTS).
func TestBrowserDark(t *testing.T) {
	ctx, ev := newBrowser(t)
	dir := t.TempDir()
	if err := Write(context.Background(), dir, browserData(t)); err != nil {
		t.Fatal(err)
	}
	base, _ := serveSubPath(t, dir)
	step(t, ctx, "dark", darkMode(),
		chromedp.Navigate(base+"packages/ratelimiting/index.html"),
		chromedp.WaitReady(chromedp.CSS(`html[data-js="ready"]`)))
	screenshot(t, ctx, "package-dark.png")
	ev.check(t, "dark")
}

// browserData is what the browser test renders: the example packages,
// linted and packed as the repository build does. (The golden and
// escaping tests use the hand-written fixture, which does not change
// when the examples do.)
func browserData(t *testing.T) *Data {
	t.Helper()
	return realData(t)
}

// clearSearch empties the search box as a user's delete would, with an
// input event.
func clearSearch() chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`(() => { const q = document.getElementById('q'); q.value = ''; q.dispatchEvent(new Event('input', {bubbles: true})); })()`)
}

// TestBrowserScreenshotsOfBuild screenshots a catalogue that
// `ebpfrepo build` wrote, e.g. the demo repository:
//
//	EBPFREPO_SITE_DIR=demo/repo/public EBPFREPO_SCREENSHOTS=docs/screenshots go test ./site -run ScreenshotsOfBuild
//
// It saves home.png and package.png (the package named by
// EBPFREPO_SCREENSHOT_PACKAGE, default ratelimiting), and fails on any
// console error or failed request on the way.
func TestBrowserScreenshotsOfBuild(t *testing.T) {
	dir := os.Getenv("EBPFREPO_SITE_DIR")
	if dir == "" || os.Getenv("EBPFREPO_SCREENSHOTS") == "" {
		t.Skip("set EBPFREPO_SITE_DIR (a built catalogue) and EBPFREPO_SCREENSHOTS (where to save) to take screenshots of a build")
	}
	pkg := os.Getenv("EBPFREPO_SCREENSHOT_PACKAGE")
	if pkg == "" {
		pkg = "ratelimiting"
	}
	ctx, ev := newBrowser(t)
	base, notFound := serveSubPath(t, dir)
	step(t, ctx, "home", chromedp.Navigate(base), chromedp.WaitReady(chromedp.CSS(`html[data-search="ready"]`)))
	screenshot(t, ctx, "home.png")
	step(t, ctx, "package", chromedp.Click(chromedp.CSS(`#packages li[data-name="`+pkg+`"] h3 a`)),
		chromedp.WaitReady(chromedp.CSS(`html[data-js="ready"] .pkg-header`)))
	screenshot(t, ctx, "package.png")
	step(t, ctx, "dark", darkMode())
	screenshot(t, ctx, "package-dark.png")
	ev.check(t, "build")
	if miss := notFound(); len(miss) > 0 {
		t.Errorf("the pages requested missing files: %q", miss)
	}
}

// darkMode makes the page report prefers-color-scheme: dark.
func darkMode() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
		})
		return err
	})
}

// a11yJS lists accessibility faults of the page: images without alt text,
// form controls without a label, not exactly one h1, heading levels that
// skip (outside the README, which the author controls), and links
// without text.
const a11yJS = `(() => {
  const f = [];
  document.querySelectorAll('img:not([alt])').forEach(e => f.push('img without alt: ' + e.src));
  document.querySelectorAll('input, select, textarea').forEach(e => {
    if (!(e.labels && e.labels.length) && !e.getAttribute('aria-label')) f.push('unlabelled control #' + e.id);
  });
  const h1 = document.querySelectorAll('h1').length;
  if (h1 !== 1) f.push(h1 + ' h1 elements');
  let last = 0;
  document.querySelectorAll('h1, h2, h3, h4, h5, h6').forEach(h => {
    if (h.closest('.markdown')) return;
    const l = +h.tagName[1];
    if (last && l > last + 1) f.push('heading skips from h' + last + ' to h' + l + ': ' + h.textContent);
    last = l;
  });
  document.querySelectorAll('a').forEach(a => {
    if (!a.textContent.trim() && !a.getAttribute('aria-label') && !a.querySelector('img[alt]:not([alt=""])')) f.push('link without text: ' + a.href);
  });
  if (!document.documentElement.lang) f.push('no lang on html');
  return f;
})()`

func checkA11y(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	for _, f := range eval[[]string](t, ctx, a11yJS) {
		t.Errorf("%s: accessibility: %s", page, f)
	}
}
