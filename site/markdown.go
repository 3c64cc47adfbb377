package site

import (
	"bytes"
	"html/template"
	"regexp"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// MaxReadmeRender bounds the Markdown the catalogue renders per README;
// longer text is cut (the index already limits READMEs, this is a backstop).
const MaxReadmeRender = 512 << 10

var (
	mdOnce   sync.Once
	md       goldmark.Markdown
	sanitize *bluemonday.Policy
)

func markdownInit() {
	md = goldmark.New(
		goldmark.WithExtensions(
			extension.Strikethrough,
			extension.Linkify,
			extension.TaskList,
			extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)),
		),
		goldmark.WithParserOptions(parser.WithASTTransformers(
			// Images become links: the catalogue loads nothing a README
			// names (no tracking pixels, no third-party requests, and the
			// CSP would block them anyway).
			util.Prioritized(readmeTransform{}, 100),
		)),
		// Raw HTML is passed through to the sanitiser, which keeps only
		// the allow-list below: READMEs commonly use <details>, <br>, <kbd>.
		goldmark.WithRendererOptions(html.WithUnsafe()),
	)
	sanitize = readmePolicy()
}

// readmePolicy is the allow-list applied to rendered READMEs (headings
// from h3 down, as RenderReadme shifts them): structural
// and text-level elements only; links with http, https or mailto (or
// relative) URLs, rel="nofollow noreferrer"; no images, media, frames,
// forms, scripts, styles, ids, classes (except code language-*), or event
// handlers.
func readmePolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements(
		"h3", "h4", "h5", "h6", "p", "br", "hr", "blockquote",
		"pre", "code", "em", "strong", "b", "i", "s", "del", "ins", "sub", "sup",
		"kbd", "samp", "var", "mark", "small", "abbr", "cite", "q",
		"ul", "ol", "li", "dl", "dt", "dd",
		"table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption",
		"details", "summary", "span", "div",
	)
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("title").OnElements("a", "abbr")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^language-[A-Za-z0-9_+-]{1,32}$`)).OnElements("code")
	p.AllowAttrs("align").Matching(regexp.MustCompile(`^(left|right|center)$`)).OnElements("th", "td", "p", "div", "h3", "h4")
	p.AllowAttrs("start").Matching(bluemonday.Integer).OnElements("ol")
	p.AllowAttrs("open").Matching(regexp.MustCompile(`^(|open)$`)).OnElements("details")
	p.AllowAttrs("type").Matching(regexp.MustCompile(`^checkbox$`)).OnElements("input")
	p.AllowAttrs("checked", "disabled").Matching(regexp.MustCompile(`^(|checked|disabled)$`)).OnElements("input")
	p.AllowURLSchemes("http", "https", "mailto")
	p.AllowRelativeURLs(true)
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(false)
	return p
}

// RenderReadme renders untrusted Markdown to sanitised HTML. The result
// is safe to embed in a page: no script, event handler, javascript: URL,
// frame, style, form or image survives.
func RenderReadme(src string) template.HTML {
	mdOnce.Do(markdownInit)
	if len(src) > MaxReadmeRender {
		src = src[:MaxReadmeRender]
	}
	var buf bytes.Buffer
	if err := md.Convert([]byte(src), &buf); err != nil {
		// goldmark only fails on writer errors; show the text instead.
		return template.HTML("<pre>" + template.HTMLEscapeString(src) + "</pre>")
	}
	// The sanitiser's output is the only HTML the catalogue trusts
	// without escaping.
	return template.HTML(sanitize.SanitizeBytes(buf.Bytes())) //nolint:gosec // sanitised above
}

// readmeTransform turns images into links and shifts headings (see
// headingShift).
type readmeTransform struct{}

// headingShift moves README headings below the page's own: the package
// name is the page's h1 and "README" its h2, so a README's # becomes h3.
const headingShift = 2

func (readmeTransform) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	var imgs []*ast.Image
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Image:
			imgs = append(imgs, n)
		case *ast.Heading:
			n.Level = min(n.Level+headingShift, 6)
		}
		return ast.WalkContinue, nil
	})
	for _, img := range imgs {
		parent := img.Parent()
		if _, inLink := parent.(*ast.Link); inLink {
			// A badge: [![alt](img)](url) keeps the outer link, with the
			// alt text as its label.
			if img.ChildCount() == 0 {
				img.AppendChild(img, ast.NewString([]byte("image")))
			}
			for c := img.FirstChild(); c != nil; {
				next := c.NextSibling()
				parent.InsertBefore(parent, img, c)
				c = next
			}
			parent.RemoveChild(parent, img)
			continue
		}
		link := ast.NewLink()
		link.Destination = img.Destination
		link.Title = img.Title
		for c := img.FirstChild(); c != nil; {
			next := c.NextSibling()
			link.AppendChild(link, c)
			c = next
		}
		if link.ChildCount() == 0 {
			link.AppendChild(link, ast.NewString([]byte("image")))
		}
		parent.ReplaceChild(parent, img, link)
	}
}
