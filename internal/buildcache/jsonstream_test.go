package buildcache

import (
	"bufio"
	"bytes"
	"encoding/json"
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
			got, err := readManifest(p)
			if err != nil {
				t.Fatal(err)
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
			if m, err := readManifest(p); err == nil {
				t.Errorf("readManifest(%s) = %+v, want an error", tc.data, m)
			}
		})
	}
}
