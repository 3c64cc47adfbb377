package progtest

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// maxValueSize bounds a key or value a test may give (BPF maps allow
// values up to KMALLOC_MAX_SIZE; a test vector needs far less).
const maxValueSize = 64 << 10

// EncodeValue turns a map key or value as a manifest gives it into the
// size bytes the map holds, laid out as typ (the map's BTF key or value
// type; nil when the object has none) in byte order order:
//
//   - a string is hex bytes, "0x" optional, spaces, ':' and '_' ignored
//     ("0a000001", "0a:00:00:01"); it must be exactly size bytes;
//   - an integer needs an integer or enum type of that size;
//   - a table needs a struct type: each key a member (integer or enum),
//     members not given are zero;
//   - an array needs an array type of integers.
//
// Errors name what was expected, so a lint problem can say what to write.
func EncodeValue(v any, size uint32, typ btf.Type, order binary.ByteOrder) ([]byte, error) {
	b, _, err := EncodeMasked(v, size, typ, order)
	return b, err
}

// EncodeMasked is EncodeValue that also returns which bytes the value
// gives: a table leaves the fields it does not name out of the mask, so
// that an expectation compares only the fields given (a time stamp a
// program writes need not be known). The mask is nil when every byte is
// given.
func EncodeMasked(v any, size uint32, typ btf.Type, order binary.ByteOrder) (value, mask []byte, err error) {
	if size == 0 || size > maxValueSize {
		return nil, nil, fmt.Errorf("size %d: out of range", size)
	}
	if s, ok := v.(string); ok {
		b, err := parseHex(s)
		if err != nil {
			return nil, nil, err
		}
		if len(b) != int(size) {
			return nil, nil, fmt.Errorf("%d bytes of hex, the map's size is %d", len(b), size)
		}
		return b, nil, nil
	}
	if typ == nil {
		return nil, nil, fmt.Errorf("the map has no BTF type to lay out a %s: give %d bytes as hex", tomlKind(v), size)
	}
	out, m := make([]byte, size), make([]byte, size)
	if err := encodeInto(out, m, v, typ, order, ""); err != nil {
		return nil, nil, err
	}
	if !slices.Contains(m, 0) {
		m = nil
	}
	return out, m, nil
}

// encodeInto lays v out into out as typ, setting mask to 0xff over every
// byte it gives.
func encodeInto(out, mask []byte, v any, typ btf.Type, order binary.ByteOrder, at string) error {
	if n, ok := v.(int); ok { // a Go caller's integer, as TOML's int64
		v = int64(n)
	}
	t := btf.UnderlyingType(typ)
	sz, err := btf.Sizeof(t)
	if err != nil || sz != len(out) {
		return fmt.Errorf("%stype %s: size %d, the map's is %d", at, typ, sz, len(out))
	}
	switch x := v.(type) {
	case int64:
		switch t.(type) {
		case *btf.Int, *btf.Enum:
		default:
			return fmt.Errorf("%san integer, but the type is %s: give a table of its fields or hex", at, typ)
		}
		for i := range mask {
			mask[i] = 0xff
		}
		return putInt(out, x, order, at)
	case map[string]any:
		st, ok := t.(*btf.Struct)
		if !ok {
			return fmt.Errorf("%sa table, but the type is %s, not a struct", at, typ)
		}
		members := map[string]btf.Member{}
		for _, m := range st.Members {
			members[m.Name] = m
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			m, ok := members[k]
			if !ok {
				return fmt.Errorf("%sstruct %s has no field %q (it has %s)", at, st.Name, k, strings.Join(memberNames(st), ", "))
			}
			if m.BitfieldSize != 0 || m.Offset%8 != 0 {
				return fmt.Errorf("%sfield %s is a bitfield: give the struct as hex", at, k)
			}
			msz, err := btf.Sizeof(m.Type)
			off := int(m.Offset / 8)
			if err != nil || off+msz > len(out) {
				return fmt.Errorf("%sfield %s: cannot lay it out", at, k)
			}
			if err := encodeInto(out[off:off+msz], mask[off:off+msz], x[k], m.Type, order, at+k+": "); err != nil {
				return err
			}
		}
		return nil
	case []any:
		arr, ok := t.(*btf.Array)
		if !ok {
			return fmt.Errorf("%san array, but the type is %s", at, typ)
		}
		if len(x) != int(arr.Nelems) {
			return fmt.Errorf("%s%d elements, the array has %d", at, len(x), arr.Nelems)
		}
		esz, err := btf.Sizeof(arr.Type)
		if err != nil || esz*len(x) != len(out) {
			return fmt.Errorf("%scannot lay out the array", at)
		}
		for i, e := range x {
			if err := encodeInto(out[i*esz:(i+1)*esz], mask[i*esz:(i+1)*esz], e, arr.Type, order, fmt.Sprintf("%s[%d]: ", at, i)); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("%sa %s: give an integer, a table, an array or hex", at, tomlKind(v))
}

func putInt(out []byte, x int64, order binary.ByteOrder, at string) error {
	bits := uint(len(out) * 8)
	if bits < 64 && (x >= 1<<bits || x < -(1<<(bits-1))) {
		return fmt.Errorf("%s%d does not fit in %d bytes", at, x, len(out))
	}
	switch len(out) {
	case 1:
		out[0] = byte(x)
	case 2:
		order.PutUint16(out, uint16(x))
	case 4:
		order.PutUint32(out, uint32(x))
	case 8:
		order.PutUint64(out, uint64(x))
	default:
		return fmt.Errorf("%san integer of %d bytes: give hex", at, len(out))
	}
	return nil
}

func memberNames(st *btf.Struct) []string {
	var out []string
	for _, m := range st.Members {
		out = append(out, m.Name)
	}
	return out
}

func tomlKind(v any) string {
	switch v.(type) {
	case int64:
		return "integer"
	case string:
		return "string"
	case map[string]any:
		return "table"
	case []any:
		return "array"
	case bool:
		return "boolean"
	case float64:
		return "float"
	}
	return fmt.Sprintf("%T", v)
}

func parseHex(s string) ([]byte, error) {
	clean := strings.Map(func(r rune) rune {
		if r == ' ' || r == ':' || r == '_' || r == '\n' || r == '\t' {
			return -1
		}
		return r
	}, strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X"))
	if len(clean) > 2*maxValueSize {
		return nil, fmt.Errorf("hex of %d digits, over the limit", len(clean))
	}
	b, err := hex.DecodeString(clean)
	if err != nil {
		return nil, fmt.Errorf("not hex bytes: %v", err)
	}
	if len(b) == 0 {
		return nil, errors.New("no bytes")
	}
	return b, nil
}

// ParseHex reads a packet or blob given as hex in a manifest (spaces,
// ':' and '_' ignored, "0x" optional), at most max bytes.
func ParseHex(s string, max int) ([]byte, error) {
	b, err := parseHex(s)
	if err != nil {
		return nil, err
	}
	if len(b) > max {
		return nil, fmt.Errorf("%d bytes, over the %d-byte limit", len(b), max)
	}
	return b, nil
}

// sumPerCPU adds up the per-CPU copies of a value (each stride bytes
// apart in buf) laid out as typ: integers are summed, members of a
// struct and elements of an array each on their own. Anything else
// must be identical on every CPU that is not all zeros.
func sumPerCPU(buf []byte, size, stride int, typ btf.Type, order binary.ByteOrder) ([]byte, error) {
	if stride < size || len(buf)%stride != 0 {
		return nil, errors.New("per-CPU value: unexpected layout")
	}
	out := make([]byte, size)
	for off := 0; off+size <= len(buf); off += stride {
		if err := addInto(out, buf[off:off+size], typ, order); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func addInto(acc, v []byte, typ btf.Type, order binary.ByteOrder) error {
	t := btf.Type(nil)
	if typ != nil {
		t = btf.UnderlyingType(typ)
	}
	switch x := t.(type) {
	case *btf.Int, *btf.Enum:
		switch len(acc) {
		case 1:
			acc[0] += v[0]
		case 2:
			order.PutUint16(acc, order.Uint16(acc)+order.Uint16(v))
		case 4:
			order.PutUint32(acc, order.Uint32(acc)+order.Uint32(v))
		case 8:
			order.PutUint64(acc, order.Uint64(acc)+order.Uint64(v))
		default:
			return mergeBytes(acc, v)
		}
		return nil
	case *btf.Struct:
		for _, m := range x.Members {
			msz, err := btf.Sizeof(m.Type)
			off := int(m.Offset / 8)
			if err != nil || m.BitfieldSize != 0 || off+msz > len(acc) {
				return mergeBytes(acc, v)
			}
			if err := addInto(acc[off:off+msz], v[off:off+msz], m.Type, order); err != nil {
				return err
			}
		}
		return nil
	case *btf.Array:
		esz, err := btf.Sizeof(x.Type)
		if err != nil || esz == 0 || esz*int(x.Nelems) != len(acc) {
			return mergeBytes(acc, v)
		}
		for i := 0; i < int(x.Nelems); i++ {
			if err := addInto(acc[i*esz:(i+1)*esz], v[i*esz:(i+1)*esz], x.Type, order); err != nil {
				return err
			}
		}
		return nil
	}
	return mergeBytes(acc, v)
}

// mergeBytes keeps bytes that are not integers: a CPU's copy that is all
// zeros adds nothing; two different non-zero copies cannot be summed.
func mergeBytes(acc, v []byte) error {
	if allZero(v) {
		return nil
	}
	if allZero(acc) {
		copy(acc, v)
		return nil
	}
	if string(acc) != string(v) {
		return errors.New("per-CPU copies differ in bytes that are not integers: cannot sum them")
	}
	return nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// FormatValue shows a key or value for a difference: hex, and the integer
// when typ is an integer or enum of 1, 2, 4 or 8 bytes.
func FormatValue(b []byte, typ btf.Type, order binary.ByteOrder) string {
	h := hex.EncodeToString(b)
	if typ == nil {
		return "0x" + h
	}
	switch btf.UnderlyingType(typ).(type) {
	case *btf.Int, *btf.Enum:
		var n uint64
		switch len(b) {
		case 1:
			n = uint64(b[0])
		case 2:
			n = uint64(order.Uint16(b))
		case 4:
			n = uint64(order.Uint32(b))
		case 8:
			n = order.Uint64(b)
		default:
			return "0x" + h
		}
		return fmt.Sprintf("%d (0x%s)", n, h)
	}
	return "0x" + h
}
