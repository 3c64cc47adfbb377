package buildcache

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// scanner reads the JSON this package writes — objects of string
// values — a byte at a time from a buffered reader, much faster than
// json.Decoder's Token (which allocates per token): a tree manifest of
// 60,000 files is read on every build. Strings with escapes or bytes
// json.Unmarshal would change (invalid UTF-8) go through json.Unmarshal,
// so what it returns is exactly what json.Unmarshal would.
type scanner struct {
	r   *bufio.Reader
	buf []byte
}

func (s *scanner) space() (byte, error) {
	for {
		c, err := s.r.ReadByte()
		if err != nil {
			return 0, err
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c, nil
	}
}

func (s *scanner) expect(want byte) error {
	c, err := s.space()
	if err != nil {
		return err
	}
	if c != want {
		return fmt.Errorf("want %q, found %q", want, c)
	}
	return nil
}

// str reads a string whose opening quote was read.
func (s *scanner) str() (string, error) { return s.strIn(nil) }

// strIn is str that, with seen set, returns the string seen holds for
// the same text instead of a new one (and records a new text): a tree
// manifest's values are digests, one per content, and the same content
// sits at five names (the target of each platform, its l3afd copies, its
// latest/ copy), so its 67,000 values at 10,000 versions are mostly
// repeats.
func (s *scanner) strIn(seen map[string]string) (string, error) {
	s.buf = append(s.buf[:0], '"')
	plain := true
	for {
		c, err := s.r.ReadByte()
		if err != nil {
			return "", err
		}
		s.buf = append(s.buf, c)
		switch {
		case c == '\\':
			plain = false
			c, err := s.r.ReadByte() // the escaped byte, never the closing quote
			if err != nil {
				return "", err
			}
			s.buf = append(s.buf, c)
		case c == '"':
			body := s.buf[1 : len(s.buf)-1]
			if plain && utf8.Valid(body) {
				if seen == nil {
					return string(body), nil
				}
				if v, ok := seen[string(body)]; ok {
					return v, nil
				}
				v := string(body)
				seen[v] = v
				return v, nil
			}
			var out string
			err := json.Unmarshal(s.buf, &out)
			return out, err
		case c < 0x20:
			return "", errors.New("control character in a string")
		}
	}
}

// stringMap reads an object of string values, or null (nil). Values are
// shared: one string per distinct text.
func (s *scanner) stringMap() (map[string]string, error) {
	m := map[string]string{}
	values := map[string]string{}
	null, err := s.eachString(values, func(k, v string) error {
		m[k] = v
		return nil
	})
	if err != nil || null {
		return nil, err
	}
	return m, nil
}

// eachString reads an object of string values, handing each member to
// each as it is read, or null (reported); with seen set, values are
// shared as strIn shares them.
func (s *scanner) eachString(seen map[string]string, each func(k, v string) error) (null bool, err error) {
	c, err := s.space()
	if err != nil {
		return false, err
	}
	if c == 'n' {
		var rest [3]byte
		if _, err := io.ReadFull(s.r, rest[:]); err != nil || string(rest[:]) != "ull" {
			return false, errors.New("not an object")
		}
		return true, nil
	}
	if c != '{' {
		return false, errors.New("not an object")
	}
	for first := true; ; first = false {
		c, err := s.space()
		if err != nil {
			return false, err
		}
		if c == '}' && first {
			return false, nil
		}
		if c != '"' {
			return false, fmt.Errorf("want a key, found %q", c)
		}
		k, err := s.str()
		if err != nil {
			return false, err
		}
		if err := s.expect(':'); err != nil {
			return false, err
		}
		if err := s.expect('"'); err != nil {
			return false, errors.New("a value is not a string")
		}
		v, err := s.strIn(seen)
		if err != nil {
			return false, err
		}
		if err := each(k, v); err != nil {
			return false, err
		}
		switch c, err := s.space(); {
		case err != nil:
			return false, err
		case c == '}':
			return false, nil
		case c != ',':
			return false, fmt.Errorf("want ',' or '}', found %q", c)
		}
	}
}

// object reads the one object of the input, calling field with each key
// to read its value, then requires the end of the input.
func (s *scanner) object(field func(key string) error) error {
	if err := s.expect('{'); err != nil {
		return err
	}
	for first := true; ; first = false {
		c, err := s.space()
		if err != nil {
			return err
		}
		if c == '}' && first {
			break
		}
		if c != '"' {
			return fmt.Errorf("want a key, found %q", c)
		}
		k, err := s.str()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		if err := field(k); err != nil {
			return err
		}
		c, err = s.space()
		if err != nil {
			return err
		}
		if c == '}' {
			break
		}
		if c != ',' {
			return fmt.Errorf("want ',' or '}', found %q", c)
		}
	}
	if _, err := s.space(); err != io.EOF {
		return errors.New("data after the object")
	}
	return nil
}
