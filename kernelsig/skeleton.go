package kernelsig

import (
	"bytes"
	"fmt"
)

// MaxHeader bounds a .lskel.h; MaxPart bounds each part of a loader.
const (
	MaxHeader = 64 << 20
	MaxPart   = 16 << 20
)

// Skeleton is what a light-skeleton header (.lskel.h, as `bpftool gen
// skeleton -L` or `-S` writes it) carries of its loader.
type Skeleton struct {
	Insns     []byte // opts_insn: the loader program's instructions
	Data      []byte // opts_data: the blob the loader reads (programs, maps, BTF)
	Signature []byte // opts_sig: the detached CMS signature; nil if unsigned
	ExclHash  []byte // opts_excl_hash: sha256(insns) the data map is exclusive to; nil if unsigned
}

// Signed reports whether the header was generated with -S.
func (s *Skeleton) Signed() bool { return s.Signature != nil }

// ParseSkeleton reads the loader arrays of a .lskel.h. It reads the C
// string literals bpftool writes (\xHH and \0 escapes, continued lines) and
// nothing else: it does not compile C. A header without opts_insn or
// opts_data is not a light skeleton; one with exactly one of opts_sig and
// opts_excl_hash is refused.
func ParseSkeleton(h []byte) (*Skeleton, error) {
	if len(h) > MaxHeader {
		return nil, fmt.Errorf("header is %d bytes, over the %d-byte limit", len(h), MaxHeader)
	}
	s := &Skeleton{}
	for _, a := range []struct {
		name string
		dst  *[]byte
		need bool
	}{{"opts_insn", &s.Insns, true}, {"opts_data", &s.Data, true}, {"opts_sig", &s.Signature, false}, {"opts_excl_hash", &s.ExclHash, false}} {
		b, err := cArray(h, a.name)
		if err != nil {
			return nil, err
		}
		if b == nil && a.need {
			return nil, fmt.Errorf("no %s array: not a light skeleton (bpftool gen skeleton -L or -S writes one)", a.name)
		}
		*a.dst = b
	}
	if (s.Signature == nil) != (s.ExclHash == nil) {
		return nil, fmt.Errorf("opts_sig and opts_excl_hash: one without the other")
	}
	return s, nil
}

// cArray finds `static const char NAME[] ... = "` and decodes the string
// literal that follows; nil if the header has no such array, an error if
// it has two.
func cArray(h []byte, name string) ([]byte, error) {
	decl := []byte("static const char " + name + "[]")
	i := bytes.Index(h, decl)
	if i < 0 {
		return nil, nil
	}
	if bytes.Contains(h[i+len(decl):], decl) {
		return nil, fmt.Errorf("%s: declared twice", name)
	}
	rest := h[i+len(decl):]
	eq := bytes.Index(rest, []byte("= \""))
	if eq < 0 || bytes.IndexByte(rest[:eq], ';') >= 0 {
		return nil, fmt.Errorf("%s: no string initializer", name)
	}
	b, err := cString(rest[eq+3:])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return b, nil
}

// cString decodes a C string literal body up to its closing quote.
func cString(p []byte) ([]byte, error) {
	out := make([]byte, 0, len(p)/4)
	for i := 0; i < len(p); {
		switch c := p[i]; {
		case c == '"':
			return out, nil
		case c == '\\' && i+1 < len(p) && p[i+1] == '\n':
			i += 2
		case c == '\\' && i+3 < len(p) && p[i+1] == 'x':
			v, ok := hexByte(p[i+2], p[i+3])
			if !ok {
				return nil, fmt.Errorf("bad escape at byte %d", i)
			}
			out = append(out, v)
			i += 4
		case c == '\\' && i+1 < len(p) && p[i+1] == '0' && (i+2 == len(p) || p[i+2] < '0' || p[i+2] > '7'):
			out = append(out, 0)
			i += 2
		case c == '\\' || c == '\n':
			return nil, fmt.Errorf("unexpected %q at byte %d (bpftool writes only \\xHH and \\0 escapes)", c, i)
		default:
			out = append(out, c)
			i++
		}
		if len(out) > MaxPart {
			return nil, fmt.Errorf("over the %d-byte limit", MaxPart)
		}
	}
	return nil, fmt.Errorf("unterminated string")
}

func hexByte(a, b byte) (byte, bool) {
	x, ok1 := hexDigit(a)
	y, ok2 := hexDigit(b)
	return x<<4 | y, ok1 && ok2
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
