package buildcache

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestWriteManifestMatchesMarshal(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    TreeManifest
	}{
		{"nil", TreeManifest{}},
		{"empty", TreeManifest{Files: map[string]string{}, Catalogue: map[string]string{}}},
		{"plain", TreeManifest{Files: map[string]string{"b/c": "01", "a": "ff"}, Catalogue: map[string]string{"x": "1"}}},
		{"repeated values", TreeManifest{Files: map[string]string{"t/jammy/x": "ab", "t/noble/x": "ab", "l/noble/x": "ab", "y": "\u00e9"}}},
		{"escaped", TreeManifest{Files: map[string]string{"a<b>&\"\\\n": "é\u2028", "\xff": "z"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := json.Marshal(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			w := bufio.NewWriter(&b)
			if err := writeManifest(w, &tc.m); err != nil {
				t.Fatal(err)
			}
			w.Flush()
			if diff := cmp.Diff(string(want), b.String()); diff != "" {
				t.Errorf("writeManifest differs from json.Marshal (-want +got):\n%s", diff)
			}
			p := filepath.Join(t.TempDir(), "m.json")
			if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := ReadManifest(p)
			if err != nil {
				t.Fatal(err)
			}
			scanned := map[string]string{}
			sm, err := ScanManifest(p, func(rel, sha string) error { scanned[rel] = sha; return nil })
			if tc.m.Files == nil {
				if err == nil {
					t.Errorf("ScanManifest of files null = %+v, want an error", sm)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if diff := cmp.Diff(got.Files, scanned, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ScanManifest's files (-ReadManifest +ScanManifest):\n%s", diff)
			}
			var back TreeManifest // what json.Unmarshal reads back
			if err := json.Unmarshal(want, &back); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(back, *got, cmp.AllowUnexported(TreeManifest{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("readManifest (-want +got):\n%s", diff)
			}
			// Equal values are one string (a digest at five names).
			seen := map[string]*byte{}
			for k, v := range got.Files {
				if p, ok := seen[v]; ok && p != unsafe.StringData(v) {
					t.Errorf("%s: value %q held twice", k, v)
				}
				seen[v] = unsafe.StringData(v)
			}
		})
	}
}

func TestReadManifestRejects(t *testing.T) {
	for _, tc := range []struct{ name, data string }{
		{"trailing", `{"files":{}} {}`},
		{"not-object", `[]`},
		{"number-value", `{"files":{"a":1}}`},
		{"torn", `{"files":{"a":"b"`},
		{"torn-string", `{"files":{"a":"b`},
		{"missing-colon", `{"files":{"a" "b"}}`},
		{"trailing-comma", `{"files":{"a":"b",}}`},
		{"control-character", "{\"files\":{\"a\":\"\x01\"}}"},
		{"bad-escape", `{"files":{"a":"\q"}}`},
		{"unknown-member", `{"files":{},"other":1}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "m.json")
			if err := os.WriteFile(p, []byte(tc.data), 0o644); err != nil {
				t.Fatal(err)
			}
			if m, err := ReadManifest(p); err == nil {
				t.Errorf("ReadManifest(%s) = %+v, want an error", tc.data, m)
			}
			if m, err := ScanManifest(p, func(string, string) error { return nil }); err == nil {
				t.Errorf("ScanManifest(%s) = %+v, want an error", tc.data, m)
			}
		})
	}
	// What ReadManifest takes (files absent or null) but a scan cannot
	// hand over.
	for _, data := range []string{`{}`, `{"files":null}`, `{"catalogue":{"a":"b"}}`} {
		p := filepath.Join(t.TempDir(), "m.json")
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		if m, err := ScanManifest(p, func(string, string) error { return nil }); err == nil {
			t.Errorf("ScanManifest(%s) = %+v, want an error", data, m)
		}
	}
	// An error from the function stops the scan and is returned.
	p := filepath.Join(t.TempDir(), "m.json")
	if err := os.WriteFile(p, []byte(`{"files":{"a":"1","b":"2"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	var n int
	if _, err := ScanManifest(p, func(string, string) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("ScanManifest with a failing function: %v after %d files, want %v after 1", err, n, stop)
	}
}
