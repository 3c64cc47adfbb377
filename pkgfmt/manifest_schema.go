package pkgfmt

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/ebpfrepo/ebpfrepo/internal/suggest"
)

// The manifest schema is derived from the struct tags of Manifest and the
// types it holds, so that adding a field to types.go extends the strict
// parser with it. checkShape walks the generic TOML tree (what
// toml.Decode gives for a map[string]any) and reports every unknown key,
// with its full path, and every value of the wrong type, before the typed
// decode, which stops at the first mismatch.

// tomlKeys returns the TOML keys of a struct type, in field order.
func tomlKeys(t reflect.Type) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if k := tomlKey(t.Field(i)); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

func tomlKey(f reflect.StructField) string {
	tag := f.Tag.Get("toml")
	name, _, _ := strings.Cut(tag, ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	if name == "" {
		return f.Name
	}
	return name
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		if tomlKey(t.Field(i)) == key {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

// checkShape appends a problem for every unknown key and mistyped value in
// tree, read as the struct type t at path prefix. It deletes mistyped
// values from tree, so that what remains decodes, and returns the paths
// it deleted.
func checkShape(prefix string, tree map[string]any, t reflect.Type, add func(Problem)) (pruned []string) {
	keys := make([]string, 0, len(tree))
	for k := range tree {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		path := joinField(prefix, k)
		f, ok := fieldByKey(t, k)
		if !ok {
			add(Problem{Severity: SeverityError, Field: path, Code: "manifest.unknown-key",
				Message: fmt.Sprintf("unknown key %q%s", k, suggestKey(k, prefix, t))})
			delete(tree, k)
			continue
		}
		ok, sub := checkValue(path, tree[k], f.Type, add)
		pruned = append(pruned, sub...)
		if !ok {
			delete(tree, k)
			pruned = append(pruned, path)
		}
	}
	return pruned
}

// checkValue reports whether v has type t, appending problems for v and
// for what it holds.
func checkValue(path string, v any, t reflect.Type, add func(Problem)) (ok bool, pruned []string) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	mistyped := func(want string) (bool, []string) {
		add(Problem{Severity: SeverityError, Field: path, Code: "manifest.type",
			Message: fmt.Sprintf("want %s, got %s", want, tomlTypeName(v))})
		return false, nil
	}
	switch t.Kind() {
	case reflect.String:
		if _, ok := v.(string); !ok {
			return mistyped("a string")
		}
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return mistyped("a table")
		}
		return true, checkShape(path, m, t, add)
	case reflect.Slice:
		elems, ok := tomlArray(v)
		if !ok {
			if t.Elem().Kind() == reflect.Struct {
				return mistyped("an array of tables")
			}
			return mistyped("an array of strings")
		}
		all := true
		for i, e := range elems {
			ok, sub := checkValue(fmt.Sprintf("%s[%d]", path, i), e, t.Elem(), add)
			pruned = append(pruned, sub...)
			all = all && ok
		}
		return all, pruned
	case reflect.Int64:
		if _, ok := v.(int64); !ok {
			return mistyped("an integer")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return mistyped("a boolean")
		}
	case reflect.Interface:
		// A typed value (a test's map key, value or verdict): its type
		// is checked against the object's BTF by the test stage.
	default:
		// Not reachable with the manifest's types; keep the decoder honest.
		return mistyped(t.Kind().String())
	}
	return true, nil
}

// tomlArray returns the elements of an array or an array of tables.
func tomlArray(v any) ([]any, bool) {
	switch a := v.(type) {
	case []any:
		return a, true
	case []map[string]any:
		out := make([]any, len(a))
		for i := range a {
			out[i] = a[i]
		}
		return out, true
	}
	return nil, false
}

func tomlTypeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case time.Time:
		return "a date-time"
	case map[string]any:
		return "a table"
	case []any, []map[string]any:
		return "an array"
	}
	return fmt.Sprintf("%T", v)
}

func joinField(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// suggestKey returns ` (did you mean "x"?)` for the known key nearest to
// key at this level, or, at the top level, a key of a sub-table the
// author may have meant to put there.
func suggestKey(key, prefix string, t reflect.Type) string {
	if best := nearestKey(key, tomlKeys(t)); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	if prefix != "" {
		if best := nearestKey(key, tomlKeys(reflect.TypeFor[Manifest]())); best != "" {
			if best == key {
				return fmt.Sprintf(" (%q is a top-level key: move it above the first [table] header)", key)
			}
			return fmt.Sprintf(" (did you mean the top-level key %q? move it above the first [table] header)", best)
		}
		return ""
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		ft := f.Type
		table := "[" + tomlKey(f) + "]"
		if ft.Kind() == reflect.Slice {
			ft = ft.Elem()
			table = "[[" + tomlKey(f) + "]]"
		}
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() != reflect.Struct {
			continue
		}
		if best := nearestKey(key, tomlKeys(ft)); best != "" {
			return fmt.Sprintf(" (did you mean %q under %s?)", best, table)
		}
	}
	return ""
}

// nearestKey returns the candidate closest to key, if it is a plausible
// typo (suggest.Nearest).
func nearestKey(key string, candidates []string) string { return suggest.Nearest(key, candidates) }
