package e2e

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// l3afdExtract extracts an artifact under l3afd's rules: by suffix
// (.tar.gz or .zip only) into bpfDir/name/version/; every entry must lie
// under one top-level directory named like the artifact up to its first
// dot; directory entries must precede their files (parents are not
// created: a file whose directory is missing fails, as in l3afd); names
// with ".." are rejected; links and other special entries are not
// handled. It returns bpfDir/name/version/<stem>, the directory l3afd
// then uses.
func l3afdExtract(bpfDir, name, version, artifact string, data []byte) (string, error) {
	stem, _, _ := strings.Cut(artifact, ".")
	dest := filepath.Join(bpfDir, name, version)
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return "", err
	}
	type entry struct {
		name string
		dir  bool
		mode os.FileMode
		open func() (io.Reader, error)
	}
	var entries []entry
	switch {
	case strings.HasSuffix(artifact, ".tar.gz"):
		gz, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return "", err
		}
		tr := tar.NewReader(gz)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return "", err
			}
			body, err := io.ReadAll(tr)
			if err != nil {
				return "", err
			}
			switch h.Typeflag {
			case tar.TypeDir, tar.TypeReg:
			default:
				return "", fmt.Errorf("%s: entry type %q not handled", h.Name, h.Typeflag)
			}
			entries = append(entries, entry{h.Name, h.Typeflag == tar.TypeDir, os.FileMode(h.Mode).Perm(),
				func() (io.Reader, error) { return bytes.NewReader(body), nil }})
		}
	case strings.HasSuffix(artifact, ".zip"):
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return "", err
		}
		for _, f := range zr.File {
			if !f.Mode().IsDir() && !f.Mode().IsRegular() {
				return "", fmt.Errorf("%s: mode %v not handled", f.Name, f.Mode())
			}
			entries = append(entries, entry{f.Name, f.Mode().IsDir(), f.Mode().Perm(),
				func() (io.Reader, error) { return f.Open() }})
		}
	default:
		return "", fmt.Errorf("artifact %s: l3afd extracts .tar.gz and .zip only", artifact)
	}
	for _, e := range entries {
		if strings.Contains(e.name, "..") {
			return "", fmt.Errorf("%s: name with .. rejected", e.name)
		}
		if clean := strings.TrimSuffix(e.name, "/"); clean != stem && !strings.HasPrefix(clean, stem+"/") {
			return "", fmt.Errorf("%s: not under the top-level directory %s/", e.name, stem)
		}
		target := filepath.Join(dest, filepath.FromSlash(e.name))
		if e.dir {
			if err := os.Mkdir(target, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
				return "", fmt.Errorf("%s: %w (directory entries must precede their files)", e.name, err)
			}
			continue
		}
		out, err := os.OpenFile(target, os.O_CREATE|os.O_RDWR|os.O_TRUNC, e.mode)
		if err != nil {
			return "", fmt.Errorf("%s: %w (directory entries must precede their files)", e.name, err)
		}
		r, err := e.open()
		if err == nil {
			_, err = io.Copy(out, r)
		}
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", err
		}
	}
	top := filepath.Join(dest, stem)
	if st, err := os.Stat(top); err != nil || !st.IsDir() {
		return "", fmt.Errorf("artifact %s: no top-level directory %s/", artifact, stem)
	}
	return top, nil
}

// TestL3afdExtractRules checks the extraction helper itself: it must
// refuse what l3afd cannot extract, or the mirror test proves nothing.
func TestL3afdExtractRules(t *testing.T) {
	mk := func(entries ...[2]string) []byte { // name, "d" for a directory or file content
		var buf bytes.Buffer
		gz := gzip.NewWriter(&buf)
		tw := tar.NewWriter(gz)
		for _, e := range entries {
			if e[1] == "d" {
				tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: e[0], Mode: 0o755})
				continue
			}
			if e[1] == "l" {
				tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: e[0], Linkname: "/etc/passwd"})
				continue
			}
			tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: e[0], Mode: 0o644, Size: int64(len(e[1]))})
			tw.Write([]byte(e[1]))
		}
		tw.Close()
		gz.Close()
		return buf.Bytes()
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"ok", mk([2]string{"a/", "d"}, [2]string{"a/x", "1"}), ""},
		{"file before its directory", mk([2]string{"a/x", "1"}, [2]string{"a/", "d"}), "precede"},
		{"wrong top-level directory", mk([2]string{"b/", "d"}, [2]string{"b/x", "1"}), "top-level"},
		{"dot-dot", mk([2]string{"a/", "d"}, [2]string{"a/../x", "1"}), ".."},
		{"symlink", mk([2]string{"a/", "d"}, [2]string{"a/l", "l"}), "not handled"},
	} {
		_, err := l3afdExtract(t.TempDir(), "p", "1.0.0", "a.tar.gz", tc.data)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := l3afdExtract(t.TempDir(), "p", "1.0.0", "a.tgz", nil); err == nil {
		t.Error(".tgz accepted")
	}
}
