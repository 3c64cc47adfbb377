package buildcache

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"
)

// The build's large JSON files (the tree manifest, the package and stat
// caches) are written entry by entry rather than through json.Marshal,
// which would hold the whole encoding, and the buffer it grew it in, at
// once. The bytes are the same as json.Marshal's: keys sorted, each key
// and value encoded by encoding/json.

// writeJSONMap writes m as a JSON object with sorted keys, each value
// encoded by enc.
func writeJSONMap[V any](w *bufio.Writer, m map[string]V, enc func(V) ([]byte, error)) error {
	if m == nil {
		_, err := w.WriteString("null")
		return err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	w.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			w.WriteByte(',')
		}
		if err := writeJSONString(w, k); err != nil {
			return err
		}
		w.WriteByte(':')
		data, err := enc(m[k])
		if err != nil {
			return err
		}
		w.Write(data)
	}
	_, err := w.WriteString("}")
	return err
}

// writeJSONString writes s as encoding/json encodes it.
func writeJSONString(w *bufio.Writer, s string) error {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			plain = false
			break
		}
	}
	if !plain {
		data, err := json.Marshal(s)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	}
	w.WriteByte('"')
	w.WriteString(s)
	_, err := w.WriteString(`"`)
	return err
}

// jsonString encodes a string map value.
func jsonString(s string) ([]byte, error) {
	var b []byte
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return json.Marshal(s)
		}
	}
	b = make([]byte, 0, len(s)+2)
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), nil
}

// writeFileFunc writes a cache file, its content written by fill,
// through a temporary file and a rename, without fsync: a cache entry
// lost in a crash only costs time, and a torn one does not decode and
// counts as a miss.
func writeFileFunc(p string, fill func(w *bufio.Writer) error) error {
	tmp := fmt.Sprintf("%s.tmp-%d-%d", p, os.Getpid(), seq.Add(1))
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
			f, err = os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		}
	}
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 64<<10)
	err = fill(w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// readJSONObject reads the JSON object of path, the one value of the
// file, a member at a time: field decodes the value of each key from
// dec (or skips it). Unlike os.ReadFile and json.Unmarshal it never holds
// the whole file. Keys match exactly.
func readJSONObject(path string, field func(dec *json.Decoder, key string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(f, 64<<10))
	if err := jsonDelim(dec, '{'); err != nil {
		return err
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		k, ok := t.(string)
		if !ok {
			return errors.New("object key is not a string")
		}
		if err := field(dec, k); err != nil {
			return err
		}
	}
	if err := jsonDelim(dec, '}'); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the object")
	}
	return nil
}

// skipJSON skips the next value of dec.
func skipJSON(dec *json.Decoder) error {
	var v json.RawMessage
	return dec.Decode(&v)
}

func jsonDelim(dec *json.Decoder, want json.Delim) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := t.(json.Delim); !ok || d != want {
		return fmt.Errorf("want %q", want)
	}
	return nil
}

// readJSONMap decodes the next value of dec, a JSON object (or null:
// nil), into a map, each member's value by value.
func readJSONMap[V any](dec *json.Decoder, value func(dec *json.Decoder) (V, error)) (map[string]V, error) {
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, nil
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not an object")
	}
	m := map[string]V{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, ok := t.(string)
		if !ok {
			return nil, errors.New("object key is not a string")
		}
		v, err := value(dec)
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, jsonDelim(dec, '}')
}

// readJSONStringValue decodes the next value of dec, a string.
func readJSONStringValue(dec *json.Decoder) (string, error) {
	t, err := dec.Token()
	if err != nil {
		return "", err
	}
	s, ok := t.(string)
	if !ok {
		return "", errors.New("not a string")
	}
	return s, nil
}

var seq atomic.Uint64 // names temporary files
