package pkgfmt

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
	"github.com/Masterminds/semver/v3"
	"github.com/github/go-spdx/v2/spdxexp"
)

// Chaining modes of a program.
const (
	ChainingNone = "none" // the program runs alone; the default when empty
	ChainingL3af = "l3af" // the program tail-calls the next one through map_name
)

// Documented bounds of manifest fields.
const (
	MaxDescriptionLen = 300
	MaxKeywords       = 20
	maxKeywordLen     = 40
	maxLicenseLen     = 512
	maxVersionLen     = 128
	maxURLLen         = 2048
	maxPlatforms      = 64
	maxPrograms       = 256
	maxMaintainers    = 64
	maxIdentLen       = 128
)

var (
	nameRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	stemRE     = regexp.MustCompile(`^[A-Za-z0-9_-]{1,100}$`)
	platformRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	keywordRE  = regexp.MustCompile(`^[a-z0-9-]+$`)
	identRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	kernelRE   = regexp.MustCompile(`^(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})(\.(0|[1-9][0-9]{0,5}))?$`)
	emailRE    = regexp.MustCompile(`^[^@\s<>()",;]+@[^@\s<>()",;.]+(\.[^@\s<>()",;.]+)+$`)
)

// ParseManifest decodes and validates an ebpf-package.toml. It returns
// every problem found, not just the first: unknown keys (with the nearest
// known key suggested), values of the wrong type and every rule of
// docs/package-format.md. The manifest is nil only when the TOML could not
// be decoded; otherwise it is returned, with chaining defaulted to "none",
// even when it has errors.
func ParseManifest(data []byte) (m *Manifest, problems Problems) {
	add := func(p Problem) {
		p.File = ManifestFile
		problems = append(problems, p)
	}
	defer func() {
		// The TOML and SPDX libraries are not ours; never let hostile
		// input panic the caller.
		if r := recover(); r != nil {
			m = nil
			add(Problem{Severity: SeverityError, Code: "manifest.syntax",
				Message: fmt.Sprintf("cannot parse: internal error: %v", r)})
		}
	}()
	if len(data) > DefaultMaxManifestSize {
		add(Problem{Severity: SeverityError, Code: "manifest.too-large",
			Message: fmt.Sprintf("%d bytes, over the %d-byte limit", len(data), DefaultMaxManifestSize)})
		return nil, problems
	}
	if !utf8.Valid(data) {
		add(Problem{Severity: SeverityError, Code: "manifest.syntax", Message: "not valid UTF-8"})
		return nil, problems
	}
	var pruned []string
	if m = decodeValid(data); m == nil {
		if m, pruned = decodeReporting(data, add); m == nil {
			return nil, problems
		}
	}
	for i := range m.Programs {
		if m.Programs[i].Chaining == "" {
			m.Programs[i].Chaining = ChainingNone
		}
	}
	// An empty optional array is the same as none: the canonical form
	// leaves it out, so the parsed manifest carries nil.
	m.Keywords, m.Maintainers, m.Tests = nilIfEmpty(m.Keywords), nilIfEmpty(m.Maintainers), nilIfEmpty(m.Tests)
	for i := range m.Tests {
		m.Tests[i].Maps, m.Tests[i].ExpectMaps = nilIfEmpty(m.Tests[i].Maps), nilIfEmpty(m.Tests[i].ExpectMaps)
	}
	v := &manifestChecker{m: m, add: func(p Problem) {
		// A value already reported as mistyped is not also "missing".
		for _, q := range pruned {
			if p.Field == q || strings.HasPrefix(p.Field, q+".") || strings.HasPrefix(p.Field, q+"[") {
				return
			}
		}
		add(p)
	}}
	v.check()
	return m, problems
}

// decodeValid decodes a manifest whose TOML is well-formed, well-typed and
// has no unknown key — the common case — in one typed decode; nil
// otherwise, for decodeReporting to say everything that is wrong.
func decodeValid(data []byte) *Manifest {
	m := new(Manifest)
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(m)
	if err != nil {
		return nil
	}
	for _, k := range md.Undecoded() {
		if !underInterface(k, reflect.TypeFor[Manifest]()) {
			return nil
		}
	}
	return m
}

// decodeReporting decodes a manifest that decodeValid refused, reporting
// every problem of its TOML: the syntax error, or every unknown key (with
// the nearest known key suggested) and every mistyped value, not just
// the first. It returns the manifest decoded from what is left once the
// mistyped values are gone (nil when nothing could be decoded) and the
// paths it pruned.
func decodeReporting(data []byte, add func(Problem)) (*Manifest, []string) {
	var tree map[string]any
	if _, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&tree); err != nil {
		add(Problem{Severity: SeverityError, Code: "manifest.syntax",
			Message: tomlErrorText(err) + ": fix the TOML syntax there (TOML 1.0, see docs/package-format.md); nothing else was checked"})
		return nil, nil
	}
	var shape []Problem
	pruned := checkShape("", tree, reflect.TypeFor[Manifest](), func(p Problem) { shape = append(shape, p) })
	for _, p := range shape {
		add(p)
	}
	src := data
	if len(pruned) > 0 {
		// Decode what is left once the mistyped values are gone, so that
		// the rules below still check everything else.
		var b bytes.Buffer
		if err := toml.NewEncoder(&b).Encode(tree); err != nil {
			return nil, nil
		}
		src = b.Bytes()
	}
	m := new(Manifest)
	md, err := toml.NewDecoder(bytes.NewReader(src)).Decode(m)
	if err != nil {
		add(Problem{Severity: SeverityError, Code: "manifest.type", Message: tomlErrorText(err)})
		return nil, nil
	}
	if len(shape) == 0 {
		// checkShape already reports unknown keys with their index; this
		// is a backstop in case the two ever disagree.
		for _, k := range md.Undecoded() {
			if underInterface(k, reflect.TypeFor[Manifest]()) {
				continue // inside a typed test value, checked against BTF later
			}
			add(Problem{Severity: SeverityError, Field: k.String(), Code: "manifest.unknown-key",
				Message: fmt.Sprintf("unknown key %q", k.String())})
		}
	}
	return m, pruned
}

func tomlErrorText(err error) string {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("line %d: %s", pe.Position.Line, pe.Message)
	}
	return strings.TrimPrefix(err.Error(), "toml: ")
}

// ArtifactStem is the artifact file name up to its first dot: the name of
// the single top-level directory l3afd expects inside the artifact.
func (m *Manifest) ArtifactStem() string {
	stem, _, _ := strings.Cut(m.Artifact, ".")
	return stem
}

// ArtifactFormat returns ".tar.gz" or ".zip" according to how name ends,
// or "" for any other name. These are the two formats l3afd extracts.
func ArtifactFormat(name string) string {
	switch {
	case strings.HasSuffix(name, ".tar.gz"):
		return ".tar.gz"
	case strings.HasSuffix(name, ".zip"):
		return ".zip"
	}
	return ""
}

// MarshalManifest encodes m as canonical TOML: keys in the documented
// order, no indentation, empty optional fields left out. ParseManifest of
// the result gives m back.
func MarshalManifest(m *Manifest) ([]byte, error) {
	if m == nil {
		return nil, errors.New("marshal manifest: nil manifest")
	}
	var b bytes.Buffer
	enc := toml.NewEncoder(&b)
	enc.Indent = ""
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("marshal manifest: %w", err)
	}
	return b.Bytes(), nil
}

type manifestChecker struct {
	m   *Manifest
	add func(Problem)
}

func (c *manifestChecker) errorf(code, field, format string, args ...any) {
	c.add(Problem{Severity: SeverityError, Code: code, Field: field, Message: fmt.Sprintf(format, args...)})
}

func (c *manifestChecker) warnf(code, field, format string, args ...any) {
	c.add(Problem{Severity: SeverityWarning, Code: code, Field: field, Message: fmt.Sprintf(format, args...)})
}

func (c *manifestChecker) check() {
	m := c.m
	c.checkName()
	c.checkVersion()
	c.checkDescription()
	c.checkLicense()
	switch {
	case m.Readme == "":
		c.errorf("manifest.readme", "readme", `missing: name the package's README, e.g. readme = "README.md"`)
	default:
		if err := checkRelPath(m.Readme); err != nil {
			c.errorf("manifest.readme", "readme", "%q: %v", m.Readme, err)
		}
	}
	c.checkURL("source", m.Source)
	c.checkURL("homepage", m.Homepage)
	c.checkKeywords()
	c.checkMaintainers()
	c.checkArtifact()
	c.checkPlatforms()
	if m.MinKernel != "" && !kernelRE.MatchString(m.MinKernel) {
		c.errorf("manifest.min-kernel", "min_kernel", `%q is not a kernel release: write "X.Y" or "X.Y.Z", e.g. "5.15"`, m.MinKernel)
	}
	c.checkPrograms()
	c.checkL3afd()
	c.checkTests()
}

func (c *manifestChecker) checkName() {
	n := c.m.Name
	switch {
	case n == "":
		c.errorf("manifest.name", "name", "missing: every package needs a name")
	case !nameRE.MatchString(n):
		why := ""
		if strings.Contains(n, ".") {
			why = " no dots: l3afd builds bpffs pin paths from the name;"
		}
		c.errorf("manifest.name", "name", "%q is invalid:%s use 1 to 63 of a-z, 0-9, '_' and '-', starting with a letter or digit", n, why)
	}
}

func (c *manifestChecker) checkVersion() {
	v := c.m.Version
	switch {
	case v == "":
		c.errorf("manifest.version", "version", `missing: give a semantic version, e.g. "1.0.0"`)
	case len(v) > maxVersionLen:
		c.errorf("manifest.version", "version", "longer than %d characters", maxVersionLen)
	default:
		if v[0] == 'v' || v[0] == 'V' {
			if _, err := semver.StrictNewVersion(v[1:]); err == nil {
				c.errorf("manifest.version", "version", "%q: drop the leading %q and write %q (semantic version 2.0)", v, v[:1], v[1:])
				return
			}
		}
		if _, err := semver.StrictNewVersion(v); err != nil {
			const form = "MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]"
			if loose, lerr := semver.NewVersion(v); lerr == nil && !strings.ContainsAny(v, "vV") && loose.String() != v {
				c.errorf("manifest.version", "version", "%q is not a semantic version 2.0 (%s): write %q", v, form, loose.String())
				return
			}
			c.errorf("manifest.version", "version", "%q is not a semantic version 2.0 (%s): %v; write e.g. \"1.0.0\"", v, form, err)
		}
	}
}

func (c *manifestChecker) checkDescription() {
	d := c.m.Description
	switch {
	case strings.TrimSpace(d) == "":
		c.errorf("manifest.description", "description", "missing: describe the package in one line")
	case strings.ContainsAny(d, "\r\n"):
		c.errorf("manifest.description", "description", "must be a single line; put details in the README")
	case utf8.RuneCountInString(d) > MaxDescriptionLen:
		c.errorf("manifest.description", "description", "%d characters, over the %d-character limit; put details in the README", utf8.RuneCountInString(d), MaxDescriptionLen)
	case hasControlChar(d):
		c.errorf("manifest.description", "description", "contains control characters")
	}
}

func (c *manifestChecker) checkLicense() {
	l := c.m.License
	switch {
	case strings.TrimSpace(l) == "":
		c.errorf("manifest.license", "license", `missing: give an SPDX license expression, e.g. "GPL-2.0-only OR BSD-2-Clause"`)
		return
	case len(l) > maxLicenseLen:
		c.errorf("manifest.license", "license", "longer than %d characters", maxLicenseLen)
		return
	}
	if ok, bad := spdxexp.ValidateLicenses([]string{l}); !ok {
		hint := ""
		if strings.Contains(l, "GPL") && !strings.Contains(l, "-") {
			hint = `; the kernel's "GPL" is "GPL-2.0-only" in SPDX, "Dual BSD/GPL" is "GPL-2.0-only OR BSD-2-Clause"`
		}
		c.errorf("manifest.license", "license", "%q is not a valid SPDX license expression (invalid: %s)%s", l, strings.Join(bad, ", "), hint)
	}
}

func (c *manifestChecker) checkURL(field, s string) {
	if s == "" {
		return
	}
	if len(s) > maxURLLen {
		c.errorf("manifest."+field, field, "longer than %d characters", maxURLLen)
		return
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || hasControlChar(s) {
		c.errorf("manifest."+field, field, "%q is not an absolute http(s) URL without credentials: give an https:// link, or remove %s", s, field)
	}
}

func (c *manifestChecker) checkKeywords() {
	kw := c.m.Keywords
	if len(kw) > MaxKeywords {
		c.errorf("manifest.keywords", "keywords", "%d keywords, at most %d allowed", len(kw), MaxKeywords)
	}
	seen := map[string]bool{}
	for i, k := range kw {
		f := fmt.Sprintf("keywords[%d]", i)
		switch {
		case !keywordRE.MatchString(k) || len(k) > maxKeywordLen:
			c.errorf("manifest.keywords", f, "%q is invalid: use 1 to %d of a-z, 0-9 and '-'", k, maxKeywordLen)
		case seen[k]:
			c.warnf("manifest.keywords", f, "%q is listed twice", k)
		}
		seen[k] = true
	}
}

func (c *manifestChecker) checkMaintainers() {
	ms := c.m.Maintainers
	if len(ms) == 0 {
		c.warnf("manifest.maintainers", "maintainers", "none listed: say who answers for the package")
	}
	if len(ms) > maxMaintainers {
		c.errorf("manifest.maintainers", "maintainers", "%d maintainers, at most %d allowed", len(ms), maxMaintainers)
	}
	for i, mt := range ms {
		if strings.TrimSpace(mt.Name) == "" {
			c.errorf("manifest.maintainers", fmt.Sprintf("maintainers[%d].name", i), "missing")
		} else if len(mt.Name) > 200 || hasControlChar(mt.Name) {
			c.errorf("manifest.maintainers", fmt.Sprintf("maintainers[%d].name", i), "must be one line of at most 200 bytes")
		}
		if mt.Email != "" && (len(mt.Email) > 254 || !emailRE.MatchString(mt.Email)) {
			c.errorf("manifest.maintainers", fmt.Sprintf("maintainers[%d].email", i), "%q is not an email address", mt.Email)
		}
	}
}

func (c *manifestChecker) checkArtifact() {
	a := c.m.Artifact
	if a == "" {
		c.errorf("manifest.artifact", "artifact", `missing: name the file l3afd downloads, e.g. "l3af_%s.tar.gz"`, c.m.Name)
		return
	}
	format := ArtifactFormat(a)
	if format == "" {
		c.errorf("manifest.artifact", "artifact", "%q must end in .tar.gz or .zip, the formats l3afd extracts", a)
		return
	}
	stem := strings.TrimSuffix(a, format)
	if !stemRE.MatchString(stem) {
		hint := ""
		if fixed := strings.Map(func(r rune) rune {
			if r == '.' || r == ' ' {
				return '_'
			}
			return r
		}, stem); fixed != stem && stemRE.MatchString(fixed) {
			hint = fmt.Sprintf(": write %q", fixed+format)
		}
		c.errorf("manifest.artifact", "artifact", "%q: the stem %q must be 1 to 100 of A-Z, a-z, 0-9, '_' and '-' (no dots: l3afd takes the name up to the first dot as the top-level directory)%s", a, stem, hint)
	}
	if format == ".zip" && !containsFold(c.m.Platforms, "Windows") {
		c.warnf("manifest.artifact", "artifact", `a .zip artifact is what l3afd extracts on Windows, but platforms does not list "Windows"`)
	}
}

func (c *manifestChecker) checkPlatforms() {
	ps := c.m.Platforms
	if len(ps) == 0 {
		c.errorf("manifest.platforms", "platforms", `missing: list the platforms the package is built for, e.g. ["jammy", "noble"]`)
		return
	}
	if len(ps) > maxPlatforms {
		c.errorf("manifest.platforms", "platforms", "%d platforms, at most %d allowed", len(ps), maxPlatforms)
	}
	seen := map[string]bool{}
	for i, p := range ps {
		f := fmt.Sprintf("platforms[%d]", i)
		switch {
		case !platformRE.MatchString(p) || p == "." || p == "..":
			c.errorf("manifest.platforms", f, "%q is invalid: a platform is a URL path segment of 1 to 64 of A-Z, a-z, 0-9, '.', '_' and '-'", p)
		case seen[p]:
			c.errorf("manifest.platforms", f, "%q is listed twice", p)
		}
		seen[p] = true
	}
}

func (c *manifestChecker) checkPrograms() {
	ps := c.m.Programs
	if len(ps) == 0 {
		c.errorf("manifest.programs", "programs", "missing: declare at least one [[programs]] entry")
		return
	}
	if len(ps) > maxPrograms {
		c.errorf("manifest.programs", "programs", "%d programs, at most %d allowed", len(ps), maxPrograms)
	}
	seen := map[string]int{}
	for i, p := range ps {
		f := func(k string) string { return fmt.Sprintf("programs[%d].%s", i, k) }
		switch {
		case p.Name == "":
			c.errorf("manifest.program-name", f("name"), "missing: give the entry function's name")
		case !identRE.MatchString(p.Name) || len(p.Name) > maxIdentLen:
			c.errorf("manifest.program-name", f("name"), "%q is not a C identifier (the entry function's ELF symbol)", p.Name)
		default:
			if j, dup := seen[p.Name]; dup {
				c.errorf("manifest.program-duplicate", f("name"), "%q is also declared as programs[%d]", p.Name, j)
			} else {
				seen[p.Name] = i
			}
		}
		windows := containsFold(c.m.Platforms, "Windows")
		if p.Driver != "" {
			switch err := checkRelPath(p.Driver); {
			case err != nil:
				c.errorf("manifest.program-driver", f("driver"), "%q: %v", p.Driver, err)
			case !strings.HasSuffix(strings.ToLower(p.Driver), ".sys"):
				c.errorf("manifest.program-driver", f("driver"), "%q: a native eBPF for Windows driver ends in .sys (bpf2c and MSVC make it)", p.Driver)
			case !windows:
				c.errorf("manifest.program-driver", f("driver"), "%q: drivers are for Windows; add \"Windows\" to platforms, or remove driver", p.Driver)
			}
		}
		if p.Object == "" && p.Driver == "" {
			c.errorf("manifest.program-object", f("object"), "missing: give the path of the ELF object inside the package (or, for Windows, driver: the .sys)")
		} else if p.Object == "" {
			// a Windows program shipped as a driver only
		} else if err := checkRelPath(p.Object); err != nil {
			c.errorf("manifest.program-object", f("object"), "%q: %v", p.Object, err)
		} else if !strings.HasSuffix(p.Object, ".o") {
			c.warnf("manifest.program-object", f("object"), "%q does not end in .o", p.Object)
		}
		switch {
		case p.Type == "":
			c.errorf("manifest.program-type", f("type"), "missing: one of %s", strings.Join(ProgramTypeNames(), ", "))
		default:
			if _, ok := programTypes[p.Type]; !ok {
				hint := ""
				if s := nearestKey(p.Type, ProgramTypeNames()); s != "" {
					hint = fmt.Sprintf(" (did you mean %q?)", s)
				}
				c.errorf("manifest.program-type", f("type"), "unknown program type %q%s; known: %s", p.Type, hint, strings.Join(ProgramTypeNames(), ", "))
			}
		}
		switch p.Chaining {
		case ChainingL3af:
			if p.MapName == "" {
				c.errorf("manifest.program-map-name", f("map_name"), `missing: chaining = "l3af" needs the prog array l3afd writes the next program into: set map_name to the name of the object's BPF_MAP_TYPE_PROG_ARRAY, or set chaining = "none"`)
			}
		case ChainingNone:
			if p.MapName != "" {
				c.errorf("manifest.program-map-name", f("map_name"), `set, but chaining is "none": set chaining = "l3af" or remove map_name`)
			}
		default:
			c.errorf("manifest.program-chaining", f("chaining"), `%q is invalid: "l3af" or "none"`, p.Chaining)
		}
		if p.MapName != "" && (!identRE.MatchString(p.MapName) || len(p.MapName) > maxIdentLen) {
			c.errorf("manifest.program-map-name", f("map_name"), "%q is not a C identifier (the prog array's ELF symbol)", p.MapName)
		}
	}
}

func (c *manifestChecker) checkL3afd() {
	l := c.m.L3afd
	if l == nil {
		return
	}
	for _, kv := range []struct{ key, val string }{
		{"cmd_start", l.CmdStart}, {"cmd_stop", l.CmdStop}, {"cmd_status", l.CmdStatus},
		{"cmd_config", l.CmdConfig}, {"cmd_update", l.CmdUpdate},
	} {
		if kv.val == "" {
			continue
		}
		if err := checkRelPath(kv.val); err != nil {
			c.errorf("manifest.l3afd", "l3afd."+kv.key, "%q: %v", kv.val, err)
		}
	}
}

func hasControlChar(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// underInterface reports whether key path k leads into a field of
// interface type (a test's key, value or verdict), whose contents the
// decoder leaves "undecoded".
func underInterface(k toml.Key, t reflect.Type) bool {
	for _, part := range k {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() == reflect.Interface {
			return true
		}
		if t.Kind() != reflect.Struct {
			return false
		}
		f, ok := fieldByKey(t, part)
		if !ok {
			return false
		}
		t = f.Type
	}
	return false
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}
