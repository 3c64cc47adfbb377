package site

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ebpfrepo/ebpfrepo/bpfobj"
	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/internal/testpkgs"
)

// activeContentRE matches anything in HTML that could run script, load
// a resource or restyle the page.
var activeContentRE = regexp.MustCompile(`(?i)<(script|style|iframe|object|embed|img|svg|math|form|input[^>]*submit|base|meta|link)\b|<[^>]*\s(on[a-z]+|style|srcdoc)\s*=|(href|src|action)\s*=\s*"\s*(javascript|data|vbscript):`)

var assetHashRE = regexp.MustCompile(`(assets/(?:app|icon))\.[0-9a-f]{12}\.`)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func writeFixture(t *testing.T, d *Data) string {
	t.Helper()
	dir := t.TempDir()
	if err := Write(context.Background(), dir, d); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return dir
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestGolden compares rendered pages with testdata/golden; run
// `go test ./site -run Golden -update` after an intended change.
func TestGolden(t *testing.T) {
	dir := writeFixture(t, fixtureData())
	for _, tt := range []struct{ page, golden string }{
		{"packages/ratelimiting/index.html", "package-ratelimiting.html"},
		{"index.html", "home.html"},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			// Asset hashes change with every style tweak; the pages'
			// structure is what the golden files pin.
			got := assetHashRE.ReplaceAllString(readFile(t, dir, tt.page), "$1.HASH.")
			path := filepath.Join("testdata", "golden", tt.golden)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s differs from %s (-want +got):\n%s", tt.page, path, diff)
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	a, b := writeFixture(t, fixtureData()), writeFixture(t, fixtureData())
	// Reverse the package order: the output must not depend on it.
	d := fixtureData()
	for i, j := 0, len(d.Packages)-1; i < j; i, j = i+1, j-1 {
		d.Packages[i], d.Packages[j] = d.Packages[j], d.Packages[i]
	}
	c := writeFixture(t, d)
	ta, tb, tc := tree(t, a), tree(t, b), tree(t, c)
	if diff := cmp.Diff(ta, tb); diff != "" {
		t.Errorf("two writes differ:\n%s", diff)
	}
	if diff := cmp.Diff(ta, tc); diff != "" {
		t.Errorf("package order changes the output:\n%s", diff)
	}
	for _, want := range []string{"index.html", "trust.html", "search.json", "packages/ratelimiting/index.html",
		"packages/ratelimiting/1.2.0.html", "packages/ratelimiting/1.3.0-rc.1.html", "packages/ratelimiting/1.1.0.html"} {
		if _, ok := ta[want]; !ok {
			t.Errorf("missing %s", want)
		}
	}
}

func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := make(map[string]string)
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		m[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestHostile checks that nothing a package author controls can put
// active content on a page.
func TestHostile(t *testing.T) {
	dir := writeFixture(t, fixtureData())
	page := readFile(t, dir, "packages/readme-xss/index.html")
	home := readFile(t, dir, "index.html")
	for _, tt := range []struct {
		name, page string
		bad        *regexp.Regexp
	}{
		{"script element", page, regexp.MustCompile(`(?i)<script>|<script[^>]*>[^<]`)},
		{"event handler", page, regexp.MustCompile(`(?i)<[^>]+\son[a-z]+\s*=`)},
		{"javascript URL", page, regexp.MustCompile(`(?i)href="\s*javascript:`)},
		{"data URL", page, regexp.MustCompile(`(?i)href="\s*data:`)},
		{"iframe", page, regexp.MustCompile(`(?i)<iframe`)},
		{"style element", page, regexp.MustCompile(`(?i)<style`)},
		{"style attribute", page, regexp.MustCompile(`(?i)<[^>]+\sstyle=`)},
		{"svg", page, regexp.MustCompile(`(?i)<svg`)},
		{"form", page, regexp.MustCompile(`(?i)<form|<input[^>]+password`)},
		{"object/embed", page, regexp.MustCompile(`(?i)<object|<embed`)},
		{"meta refresh", page, regexp.MustCompile(`(?i)http-equiv="refresh"`)},
		{"base", page, regexp.MustCompile(`(?i)<base`)},
		{"external stylesheet", page, regexp.MustCompile(`evil\.example/x\.css`)},
		{"image", page, regexp.MustCompile(`(?i)<img[^>]+src="(x|https?:)`)},
		{"home script", home, regexp.MustCompile(`(?i)<script>|<b>friends`)},
		{"home event handler", home, regexp.MustCompile(`(?i)<[^>]+\son[a-z]+\s*=`)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if loc := tt.bad.FindStringIndex(tt.page); loc != nil {
				lo, hi := max(0, loc[0]-80), min(len(tt.page), loc[1]+80)
				t.Errorf("found %q in:\n%s", tt.page[loc[0]:loc[1]], tt.page[lo:hi])
			}
		})
	}
	// Every script the pages load is the one embedded asset.
	scripts := regexp.MustCompile(`<script[^>]*>`).FindAllString(page, -1)
	if len(scripts) != 1 || !strings.Contains(scripts[0], `src="../../assets/app.`) {
		t.Errorf("scripts on the page: %q", scripts)
	}
	for _, want := range []string{
		"Hostile &lt;script&gt;window.__xss=9&lt;/script&gt; &#34;description&#34; &amp; &lt;b&gt;friends&lt;/b&gt;",
		"<summary>Details survive</summary>",
		"<kbd>text</kbd>",
		`<a href="https://tracker.example/pixel.gif" rel="nofollow noreferrer">tracking pixel</a>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("package page lacks %q", want)
		}
	}
	if !strings.Contains(home, "Hostile &lt;script&gt;") {
		t.Error("home page does not show the escaped description")
	}
}

func TestRenderReadme(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"heading", "# Title", "<h3>Title</h3>\n"},
		{"deep heading", "##### Deep", "<h6>Deep</h6>\n"},
		{"raw h1", "<h1>Big</h1>", "Big"},
		{"table", "| a | b |\n|:-|-:|\n| 1 | 2 |", `<th align="left">a</th>`},
		{"code", "```c\nint x;\n```", `<pre><code class="language-c">int x;`},
		{"link", "[x](https://example.org)", `<a href="https://example.org" rel="nofollow noreferrer">x</a>`},
		{"script", "<script>alert(1)</script>ok", "ok"},
		{"js link", "[x](javascript:alert(1))", "<p>x</p>"},
		{"badge", "[![ci](https://ci/badge.svg)](https://ci/)", `<a href="https://ci/" rel="nofollow noreferrer">ci</a>`},
		{"bare badge", "[![](https://ci/b.svg)](https://ci/)", `<a href="https://ci/" rel="nofollow noreferrer">image</a>`},
		{"bad class", `<code class="x onload">y</code>`, "<code>y</code>"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := string(RenderReadme(tt.in))
			if !strings.Contains(got, tt.want) {
				t.Errorf("RenderReadme(%q) = %q, want it to contain %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestWriteRejects(t *testing.T) {
	for _, tt := range []struct {
		name  string
		edit  func(*Data)
		field string
	}{
		{"traversal name", func(d *Data) { d.Packages[0].Name = "../../etc" }, "Name"},
		{"dotted name", func(d *Data) { d.Packages[0].Name = "a.b" }, "Name"},
		{"duplicate", func(d *Data) { d.Packages = append(d.Packages, &index.Package{Name: d.Packages[0].Name}) }, "Name"},
		{"absolute root", func(d *Data) { d.Trust.RootPath = "/etc/passwd" }, "Trust.RootPath"},
		{"escaping root", func(d *Data) { d.Trust.RootPath = "../1.root.json" }, "Trust.RootPath"},
		{"scheme root", func(d *Data) { d.Trust.RootPath = "javascript:alert(1)" }, "Trust.RootPath"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := fixtureData()
			tt.edit(d)
			err := Write(context.Background(), t.TempDir(), d)
			var de *DataError
			if !errors.As(err, &de) || de.Field != tt.field {
				t.Fatalf("Write = %v, want a DataError on %s", err, tt.field)
			}
		})
	}
}

func TestVersionSlugs(t *testing.T) {
	d := fixtureData()
	d.Packages = d.Packages[:1]
	v := d.Packages[0].Versions
	d.Packages[0].Versions = []index.Version{v[0], v[1], v[2], v[1], v[1]}
	d.Packages[0].Versions[3].Version = "1.2.0+build.1"
	d.Packages[0].Versions[4].Version = "1.2.0_build.1"
	dir := writeFixture(t, d)
	for _, f := range []string{"1.2.0_build.1.html", "1.2.0_build.1_2.html"} {
		if _, err := os.Stat(filepath.Join(dir, "packages", "ratelimiting", f)); err != nil {
			t.Error(err)
		}
	}
}

func TestAssetsHashed(t *testing.T) {
	dir := writeFixture(t, fixtureData())
	ents, err := os.ReadDir(filepath.Join(dir, "assets"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^(app|icon)\.[0-9a-f]{12}\.(css|js|svg)$`)
	for _, e := range ents {
		if !re.MatchString(e.Name()) {
			t.Errorf("asset %s is not content-hashed", e.Name())
		}
		b := []byte(readFile(t, dir, "assets/"+e.Name()))
		if got := hashedName("assets/"+strings.SplitN(e.Name(), ".", 2)[0]+filepath.Ext(e.Name()), b); got != "assets/"+e.Name() {
			t.Errorf("hash of %s: got name %s", e.Name(), got)
		}
	}
	if len(ents) != 3 {
		t.Errorf("%d assets, want 3", len(ents))
	}
	// Every link and resource is relative.
	for name, body := range tree(t, dir) {
		if !strings.HasSuffix(name, ".html") {
			continue
		}
		for _, m := range regexp.MustCompile(`(?:href|src)="([^"]*)"`).FindAllStringSubmatch(body, -1) {
			u := m[1]
			if strings.HasPrefix(u, "/") {
				t.Errorf("%s: absolute link %q", name, u)
			}
		}
		if bytes.Count([]byte(body), []byte("Content-Security-Policy")) != 1 {
			t.Errorf("%s: no CSP meta tag", name)
		}
	}
}

// FuzzRenderReadme checks that no input gets active content past the
// sanitiser.
func FuzzRenderReadme(f *testing.F) {
	f.Add(hostileReadme)
	f.Add("# t\n\n| a |\n|---|\n| <b onmouseover=x>b</b> |\n")
	f.Add("[a](javascript:x) <a href=\"jav&#x09;ascript:x\">b</a> ![i](x)")
	f.Add("<details ontoggle=x open><summary>s</summary></details><svg><script>x</script></svg>")
	f.Fuzz(func(t *testing.T, src string) {
		out := string(RenderReadme(src))
		if m := activeContentRE.FindString(out); m != "" {
			t.Fatalf("RenderReadme(%q) let %q through:\n%s", src, m, out)
		}
	})
}

// BenchmarkWrite renders a repository of 1000 packages with 5 versions
// each.
func BenchmarkWrite(b *testing.B) {
	d := fixtureData()
	base := d.Packages[0]
	d.Packages = nil
	for i := range 1000 {
		p := *base
		p.Name = fmt.Sprintf("pkg-%04d", i)
		p.Versions = append(slices.Clone(base.Versions), base.Versions[:2]...)
		for j := range p.Versions {
			p.Versions[j].Version = fmt.Sprintf("1.%d.0", 5-j)
			p.Versions[j].Prerelease = false
		}
		d.Packages = append(d.Packages, &p)
	}
	dir := b.TempDir()
	b.ResetTimer()
	for b.Loop() {
		if err := Write(context.Background(), dir, d); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSnippets(t *testing.T) {
	d := fixtureData()
	d.BaseURL = "https://ebpf.example.org/repo/"
	dir := writeFixture(t, d)
	page := readFile(t, dir, "packages/ratelimiting/index.html")
	trust := readFile(t, dir, "trust.html")
	for _, want := range []string{
		"ebpfrepo get \\\n  --repo https://ebpf.example.org/repo \\\n  --root root.json \\\n  ratelimiting@1.2.0",
		"ebpfrepo mirror \\\n  --repo https://ebpf.example.org/repo \\\n  --root root.json \\\n  --to /var/lib/l3afd/repo \\\n  ratelimiting@1.2.0",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("package page lacks %q", want)
		}
	}
	if !strings.Contains(trust, "curl -fsSLo root.json https://ebpf.example.org/repo/metadata/1.root.json") {
		t.Error("trust page does not name the base URL")
	}
	for name, body := range map[string]string{"package": page, "trust": trust} {
		if strings.Contains(body, repoURLPlaceholder) {
			t.Errorf("%s page has the placeholder although BaseURL is set", name)
		}
	}
}

func TestL3afdEntry(t *testing.T) {
	m := fixtureData().Packages[0].Versions[1].Description.Manifest
	got, skipped := l3afdSnippet("ratelimiting", "1.2.0", &m)
	var entry map[string]any
	if err := json.Unmarshal([]byte(got), &entry); err != nil {
		t.Fatalf("l3afd entry is not JSON: %v\n%s", err, got)
	}
	want := map[string]any{
		"name": "ratelimiting", "version": "1.2.0", "artifact": "l3af_ratelimiting.tar.gz",
		"object_file": "ratelimiting.bpf.o", "entry_function_name": "xdp_ratelimiting", "prog_type": "xdp",
		"map_name": "xdp_rl_ingress_next_prog", "cmd_start": "ratelimiting",
		"ebpf_package_repo_url": "file:///var/lib/l3afd/repo",
	}
	if diff := cmp.Diff(want, entry); diff != "" || len(skipped) != 0 {
		t.Errorf("l3afd entry (-want +got):\n%s\nskipped %q", diff, skipped)
	}

	// Several programs give an array; a type l3afd does not load is named.
	m.Programs = append(m.Programs, m.Programs[0], m.Programs[0])
	m.Programs[1].Name, m.Programs[1].Type = "egress", "tc"
	m.Programs[2].Name, m.Programs[2].Type = "lookup", "sk_lookup"
	got, skipped = l3afdSnippet("ratelimiting", "1.2.0", &m)
	var entries []map[string]any
	if err := json.Unmarshal([]byte(got), &entries); err != nil || len(entries) != 2 || entries[1]["prog_type"] != "tc" {
		t.Errorf("two loadable programs: %v\n%s", err, got)
	}
	if diff := cmp.Diff([]string{"lookup (sk_lookup)"}, skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
}

// TestHostileExample renders the corpus's hostile README
// (testdata/hostile/readme-xss) and checks that nothing active survives
// while its text does.
func TestHostileExample(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(testpkgs.Hostile(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := string(RenderReadme(string(src)))
	if m := activeContentRE.FindString(out); m != "" {
		t.Errorf("active content %q survived:\n%s", m, out)
	}
	for _, want := range []string{
		"This package is <strong>valid</strong>",
		"&lt;script&gt;window.__xss=25&lt;/script&gt;", // the code block, as text
		"The end: this sentence must still be shown.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered README lacks %q", want)
		}
	}
}

func TestVerifierShown(t *testing.T) {
	d := fixtureData()
	v := d.Packages[1].Versions[0].Description // execsnoop
	v.Verifier.Programs = append(v.Verifier.Programs, bpfobj.VerifierResult{
		Object: "execsnoop.bpf.o", Program: "second", Status: "rejected",
		Reason: "permission denied", LogTail: "R1 invalid mem access 'scalar'\nprocessed 12 insns",
	})
	dir := writeFixture(t, d)
	page := readFile(t, dir, "packages/execsnoop/index.html")
	for _, want := range []string{
		`<span class="status status-rejected">rejected</span>`,
		"<pre>R1 invalid mem access &#39;scalar&#39;\nprocessed 12 insns</pre>",
		"min kernel 5.8 (RingBuf map)",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("execsnoop page lacks %q", want)
		}
	}
	if strings.Contains(page, "verified on") {
		t.Error("a package with a rejected program is shown as verified")
	}
	if home := readFile(t, dir, "index.html"); strings.Count(home, "verified on") != len(d.Packages)-1 {
		t.Errorf("home shows %d verified packages, want %d", strings.Count(home, "verified on"), len(d.Packages)-1)
	}
}

func TestSigningBadge(t *testing.T) {
	d := fixtureData()
	pub := index.Signatures{Package: index.PackageSignature{Signer: index.SignerPublisher, Publisher: "acme", Role: "pub-acme",
		KeyIDs: []string{"ab12cd34ef56ab12cd34ef56"}}, Kernel: index.LevelSignature{Status: index.StatusAbsent}, HVCI: index.LevelSignature{Status: index.StatusAbsent}}
	repoSigned := index.RepositorySigned()
	for i := range d.Packages[0].Versions {
		d.Packages[0].Versions[i].Signatures = &pub
	}
	for i := range d.Packages[1].Versions {
		d.Packages[1].Versions[i].Signatures = &repoSigned
	}
	dir := writeFixture(t, d)
	for _, tc := range []struct{ page, want, not string }{
		{"packages/" + d.Packages[0].Name + "/index.html", "✓ signed by publisher acme, key ab12cd34ef56…", "repository-signed only"},
		{"packages/" + d.Packages[0].Name + "/index.html", "--root root.json \\\n  --publisher acme \\\n", "repository-signed only"},
		{"packages/" + d.Packages[1].Name + "/index.html", "repository-signed only", "signed by publisher"},
		{"packages/" + d.Packages[2].Name + "/index.html", "", "signed"}, // no record: no badge
	} {
		page := readFile(t, dir, tc.page)
		if tc.want != "" && !strings.Contains(page, tc.want) {
			t.Errorf("%s lacks %q", tc.page, tc.want)
		}
		if strings.Contains(page, tc.not) && tc.not != "signed" || tc.not == "signed" && strings.Contains(page, "signed by publisher") {
			t.Errorf("%s has %q", tc.page, tc.not)
		}
	}
	if trust := readFile(t, dir, "trust.html"); !strings.Contains(trust, "terminating") || !strings.Contains(trust, "--require publisher") {
		t.Error("the trust page does not explain publisher signing")
	}

	// A keyless publisher's version: the badge, who signed, and the log
	// entry linked (the public-good log: Sigstore's search page).
	keylessSigned(t, d, d.Packages[2].Name)
	dir = writeFixture(t, d)
	page := readFile(t, dir, "packages/"+d.Packages[2].Name+"/index.html")
	for _, want := range []string{"✓ signed by publisher acme-ci (keyless)", "Who signed it?", "release-and-attest.yml@refs/tags/v",
		"0123456789abcdef0123456789abcdef01234567", `href="https://search.sigstore.dev/?logIndex=123456789"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the keyless package's page lacks %q", want)
		}
	}
}

func TestNaturalCompare(t *testing.T) {
	names := []string{"tc-stats-10", "tc-stats-2", "tc-stats-1", "a", "tc-stats-02x", "b1", "b01", "xdp-root"}
	slices.SortStableFunc(names, naturalCompare)
	want := []string{"a", "b1", "b01", "tc-stats-1", "tc-stats-2", "tc-stats-02x", "tc-stats-10", "xdp-root"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("natural order (-want +got):\n%s", diff)
	}
}

func TestMinKernelStricter(t *testing.T) {
	k := &bpfobj.KernelReport{MinVersion: "5.1", SetBy: []bpfobj.KernelFeature{{Kind: bpfobj.FeatureCapability, Name: "jmp32", Version: "5.1"}}}
	for _, tc := range []struct{ declared, want string }{
		{"5.15", "5.15 (declared by the author)"},
		{"4.18", "5.1 (jmp32"},
		{"", "5.1 (jmp32"},
	} {
		if _, got := minKernel(tc.declared, k); !strings.HasPrefix(got, tc.want) {
			t.Errorf("declared %q: %q, want %q…", tc.declared, got, tc.want)
		}
	}
	if v, _ := minKernel("5.4", nil); v != "5.4" {
		t.Errorf("declared only: %q", v)
	}
}

// TestTestsShown: the package page shows each vector's result next to the
// verifier's, the card a badge; a failing vector is never shown as a
// pass, a package without vectors is untested.
func TestTestsShown(t *testing.T) {
	dir := writeFixture(t, fixtureData())
	rl := readFile(t, dir, "packages/ratelimiting/index.html")
	for _, want := range []string{
		`<li class="badge badge-ok">✓ 2/2 tests pass on 6.18 x86_64</li>`,
		"Does it do what it says? Test vectors on 6.18 x86_64",
		`<td>SYNs past the limit are dropped</td><td><span class="status status-pass">pass</span> <span class="sub">XDP_DROP (1)</span></td><td class="num">4</td>`,
	} {
		if !strings.Contains(rl, want) {
			t.Errorf("ratelimiting page lacks %q", want)
		}
	}
	cl := readFile(t, dir, "packages/connection-limit/index.html")
	for _, want := range []string{
		`<li class="badge badge-bad">✗ 1 of 2 tests fail on 6.18 x86_64</li>`,
		`<span class="status status-fail">fail</span> <span class="sub">verdict TC_ACT_OK (0), want TC_ACT_SHOT (2)</span>`,
	} {
		if !strings.Contains(cl, want) {
			t.Errorf("connection-limit page lacks %q", want)
		}
	}
	if strings.Contains(cl, "tests pass") {
		t.Error("a package with a failing vector is shown as passing")
	}
	if ex := readFile(t, dir, "packages/execsnoop/index.html"); !strings.Contains(ex, `<li class="badge badge-warn">untested</li>`) {
		t.Error("a package without vectors is not shown as untested")
	}
	home := readFile(t, dir, "index.html")
	for _, want := range []string{`<dt>Tests</dt><dd class="ok">✓ 2/2 tests pass on 6.18 x86_64</dd>`, `<dt>Tests</dt><dd class="bad">✗ 1 of 2 tests fail on 6.18 x86_64</dd>`, `<dt>Tests</dt><dd>untested</dd>`} {
		if !strings.Contains(home, want) {
			t.Errorf("home lacks %q", want)
		}
	}
}

// BenchmarkPackageVersions renders one package of N versions: the cost
// per version (ns/version) stays flat as N grows when a version's page is
// bounded in size, and grows with N when every page lists every version.
func BenchmarkPackageVersions(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			d := manyVersions(n)
			dir := b.TempDir()
			var bytes int64
			for b.Loop() {
				if err := Write(context.Background(), dir, d); err != nil {
					b.Fatal(err)
				}
			}
			filepath.WalkDir(filepath.Join(dir, "packages"), func(_ string, e fs.DirEntry, _ error) error {
				if fi, err := e.Info(); err == nil && !e.IsDir() {
					bytes += fi.Size()
				}
				return nil
			})
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/version")
			b.ReportMetric(float64(bytes)/float64(n), "bytes/version")
		})
	}
}

// manyVersions is the fixture with only its first package, in n stable
// versions 1.n.0 … 1.1.0 (newest first).
func manyVersions(n int) *Data {
	d := fixtureData()
	p := *d.Packages[0]
	base := p.Versions[0]
	p.Versions = nil
	for j := range n {
		v := base
		v.Version = fmt.Sprintf("1.%d.0", n-j)
		v.Prerelease, v.Yanked = false, nil
		p.Versions = append(p.Versions, v)
	}
	d.Packages = []*index.Package{&p}
	return d
}

func TestMenuVersions(t *testing.T) {
	seq := func(lo, hi int) []int {
		var s []int
		for i := lo; i < hi; i++ {
			s = append(s, i)
		}
		return s
	}
	for _, tc := range []struct {
		name          string
		n, vi, latest int
		want          []int
	}{
		{"few", 4, 2, 0, seq(0, 4)},
		{"exactly menuSize", menuSize, 9, 3, seq(0, menuSize)},
		{"newest", 30, 0, 0, seq(0, 10)},
		{"oldest, latest far away", 30, 29, 0, append([]int{0}, seq(21, 30)...)},
		{"middle", 30, 15, 0, append([]int{0}, seq(11, 20)...)},
		{"middle, latest inside", 30, 15, 12, seq(10, 20)},
		{"pre-releases first, latest below", 30, 0, 20, append(seq(0, 9), 20)},
		{"no stable version", 30, 15, -1, seq(10, 20)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := menuVersions(tc.n, tc.vi, tc.latest)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("menuVersions(%d, %d, %d) (-want +got):\n%s", tc.n, tc.vi, tc.latest, diff)
			}
		})
	}
	// Whatever the package, the menu is bounded, ordered, and lists the
	// page's own version and the latest.
	for n := 1; n <= 40; n++ {
		for vi := range n {
			for latest := -1; latest < n; latest++ {
				got := menuVersions(n, vi, latest)
				if len(got) != min(n, menuSize) || !slices.IsSorted(got) ||
					!slices.Contains(got, vi) || (latest >= 0 && !slices.Contains(got, latest)) {
					t.Fatalf("menuVersions(%d, %d, %d) = %v", n, vi, latest, got)
				}
				if len(slices.Compact(slices.Clone(got))) != len(got) {
					t.Fatalf("menuVersions(%d, %d, %d) = %v: a version twice", n, vi, latest, got)
				}
			}
		}
	}
}

// TestPagesBounded checks that a version's page does not grow with the
// number of versions: its menu lists menuSize of them and links to the
// package's page, which alone has the table of every version.
func TestPagesBounded(t *testing.T) {
	const n = 30
	dir := writeFixture(t, manyVersions(n))
	name := "ratelimiting"
	rowRE := regexp.MustCompile(`<tr(?: class="current")?><th scope="row"><a href="1\.\d+\.0\.html"`)
	menuRE := regexp.MustCompile(`<li><a href="1\.\d+\.0\.html"`)
	for _, tc := range []struct {
		page       string
		rows, menu int
		all        bool // links to the table of every version
	}{
		{"index.html", n, menuSize, true},
		{"1.30.0.html", 0, menuSize, true},
		{"1.15.0.html", 0, menuSize, true},
		{"1.1.0.html", 0, menuSize, true},
	} {
		t.Run(tc.page, func(t *testing.T) {
			page := readFile(t, dir, "packages/"+name+"/"+tc.page)
			if got := len(rowRE.FindAllString(page, -1)); got != tc.rows {
				t.Errorf("%d rows in the versions table, want %d", got, tc.rows)
			}
			if got := len(menuRE.FindAllString(page, -1)); got != tc.menu {
				t.Errorf("%d versions in the menu, want %d", got, tc.menu)
			}
			if got := strings.Contains(page, `<a href="index.html#versions-h">All 30 versions</a>`); got != tc.all {
				t.Errorf("link to all versions in the menu: %v, want %v", got, tc.all)
			}
		})
	}
	if page := readFile(t, dir, "packages/"+name+"/1.15.0.html"); !strings.Contains(page, "1.15.0 is one of the 30 versions of ratelimiting") {
		t.Error("a version page does not say where the other versions are")
	}
}

// TestHomeDescription: the home page and search.json are the same bytes
// whether a package's featured version carries its whole description or
// only HomeDescription of it, and its other versions none (what a build
// keeps per package, and what the package cache gives back).
func TestHomeDescription(t *testing.T) {
	full := fixtureData()
	lean := fixtureData()
	for _, p := range lean.Packages {
		fi := p.FeaturedIndex()
		for j := range p.Versions {
			if j == fi {
				h := HomeDescription(p.Versions[j].Description)
				p.Versions[j].Description = &h
			} else {
				p.Versions[j].Description = nil
			}
		}
	}
	a, b := writeFixture(t, full), writeFixture(t, lean)
	for _, name := range []string{"index.html", "search.json"} {
		if diff := cmp.Diff(readFile(t, a, name), readFile(t, b, name)); diff != "" {
			t.Errorf("%s from the whole descriptions (-) and from HomeDescription (+):\n%s", name, diff)
		}
	}
	// The fixture exercises what HomeDescription keeps.
	var helpers, setBy, verifier, tests bool
	for _, p := range full.Packages {
		d := p.Featured().Description
		h, _ := helpersAndKfuncs(d)
		helpers = helpers || len(h) > 0
		setBy = setBy || d.Kernel != nil && len(d.Kernel.SetBy) > 0
		verifier = verifier || d.Verifier != nil
		tests = tests || d.TestVectors > 0
	}
	if !helpers || !setBy || !verifier || !tests {
		t.Errorf("the fixture lacks featured versions with helpers %v, kernel set_by %v, verifier results %v, test vectors %v", helpers, setBy, verifier, tests)
	}
}
