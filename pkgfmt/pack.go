package pkgfmt

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// PackOptions controls Pack. The zero value means defaults.
type PackOptions struct {
	// ModTime is the modification time of every entry. Zero means the
	// SOURCE_DATE_EPOCH environment variable, or else Unix time 0.
	ModTime time.Time
	// Limits bound what is read from the source directory.
	Limits Limits
	// Overwrite replaces an artifact already at the destination with
	// other bytes; without it that is an *OverwriteError (the same bytes
	// are fine: packing is deterministic).
	Overwrite bool
}

// OverwriteError reports an artifact Pack would replace with other bytes:
// typically another version of the same package packed into the same
// directory.
type OverwriteError struct {
	Path string
}

func (e *OverwriteError) Error() string {
	return fmt.Sprintf("%s exists with other bytes (another version of the package?): pack each version into a directory of its own, or overwrite on purpose (--force)", e.Path)
}

// Pack reads the package source directory srcDir (with OpenDir), checks
// its manifest and writes the artifact the manifest names into outDir,
// atomically (a temporary file renamed into place). It returns the path
// of the artifact. A manifest with errors, or one naming files the
// package does not hold, is a *ManifestError listing every problem.
//
// The artifact is deterministic: packing the same files with the same
// ModTime gives the same bytes (see WriteArtifact).
func Pack(ctx context.Context, srcDir, outDir string, opts PackOptions) (string, error) {
	c, err := OpenDir(ctx, srcDir, opts.Limits)
	if err != nil {
		return "", err
	}
	mf, ok := c.File(ManifestFile)
	if !ok {
		return "", fmt.Errorf("pack %s: %w: write the manifest first (see docs/package-format.md)", srcDir, ErrNoManifest)
	}
	m, problems := ParseManifest(mf.Data)
	if m != nil {
		problems = append(problems, CheckContents(m, c)...)
	}
	if m == nil || Problems(problems).HasErrors() {
		return "", &ManifestError{Path: srcDir, Problems: problems}
	}
	mtime := opts.ModTime
	if mtime.IsZero() {
		if mtime, err = packModTime(); err != nil {
			return "", fmt.Errorf("pack %s: %w", srcDir, err)
		}
	}
	out := filepath.Join(outDir, m.Artifact)
	files := c.Files
	if rel, ok := pathWithin(srcDir, out); ok {
		// Packing into the source directory: leave the previous artifact out.
		files = slices.DeleteFunc(slices.Clone(files), func(f File) bool { return f.Path == rel })
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", fmt.Errorf("pack %s: %w", srcDir, err)
	}
	if err := writeArtifactFile(out, opts.Overwrite, func(w io.Writer) error {
		return WriteArtifact(w, ArtifactFormat(m.Artifact), m.ArtifactStem(), files, mtime)
	}); err != nil {
		var oe *OverwriteError
		if errors.As(err, &oe) {
			return "", err
		}
		return "", fmt.Errorf("pack %s: %w", srcDir, err)
	}
	return out, nil
}

// CheckContents checks a package's files against its manifest: the
// readme, every program's object and every l3afd command must be in the
// package; the readme must not be empty; l3afd commands must be
// executable (or end in .exe); and an artifact's top-level directory must
// be the manifest's artifact stem. Problems name the manifest field and
// have codes "package.missing-file", "package.empty-readme",
// "package.not-executable" and "package.artifact-stem". Fields the
// manifest itself gets wrong are left to ParseManifest.
func CheckContents(m *Manifest, c *Contents) []Problem {
	var ps []Problem
	add := func(code, file, field, format string, args ...any) {
		ps = append(ps, Problem{Severity: SeverityError, File: file, Field: field, Code: code,
			Message: fmt.Sprintf(format, args...)})
	}
	missing := func(field, p string) {
		add("package.missing-file", ManifestFile, field, "%q is not in the package: add the file, or fix the path (relative to the package root)", p)
	}
	if c.Stem != "" && m.Artifact != "" && c.Stem != m.ArtifactStem() {
		add("package.artifact-stem", ManifestFile, "artifact", "the artifact's top-level directory is %q, but artifact %q needs %q (l3afd looks for that directory)", c.Stem, m.Artifact, m.ArtifactStem())
	}
	if m.Readme != "" && checkRelPath(m.Readme) == nil {
		if f, ok := c.File(m.Readme); !ok {
			missing("readme", m.Readme)
		} else if len(bytes.TrimSpace(f.Data)) == 0 {
			add("package.empty-readme", m.Readme, "readme", "%q is empty: say what the package does and how to use it", m.Readme)
		}
	}
	for i, p := range m.Programs {
		if p.Object != "" && checkRelPath(p.Object) == nil {
			if _, ok := c.File(p.Object); !ok {
				missing(fmt.Sprintf("programs[%d].object", i), p.Object)
			}
		}
	}
	if l := m.L3afd; l != nil {
		for _, kv := range [][2]string{{"cmd_start", l.CmdStart}, {"cmd_stop", l.CmdStop},
			{"cmd_status", l.CmdStatus}, {"cmd_config", l.CmdConfig}, {"cmd_update", l.CmdUpdate}} {
			if kv[1] == "" || checkRelPath(kv[1]) != nil {
				continue
			}
			f, ok := c.File(kv[1])
			switch {
			case !ok:
				missing("l3afd."+kv[0], kv[1])
			case f.Mode&0o111 == 0 && !strings.HasSuffix(kv[1], ".exe"):
				add("package.not-executable", kv[1], "l3afd."+kv[0], "%q has no executable bit; l3afd runs it (chmod +x it)", kv[1])
			}
		}
	}
	return ps
}

// pathWithin returns the path of file relative to dir, '/'-separated, when
// file lies inside dir.
func pathWithin(dir, file string) (string, bool) {
	ad, err1 := filepath.Abs(dir)
	af, err2 := filepath.Abs(file)
	if err1 != nil || err2 != nil {
		return "", false
	}
	rel, err := filepath.Rel(ad, af)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// packModTime returns the time SOURCE_DATE_EPOCH names, or Unix 0.
func packModTime() (time.Time, error) {
	s, ok := os.LookupEnv("SOURCE_DATE_EPOCH")
	if !ok || s == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > 1<<33 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want seconds since 1970 as a decimal integer", s)
	}
	return time.Unix(n, 0).UTC(), nil
}

// writeArtifactFile writes path through a temporary file in the same
// directory, synced and renamed into place; on error nothing is left.
// Without replace, an existing path with other bytes is an
// *OverwriteError.
func writeArtifactFile(path string, replace bool, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 256<<10)
	if err = write(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if !replace {
		if old, rerr := os.ReadFile(path); rerr == nil {
			if now, nerr := os.ReadFile(tmp.Name()); nerr == nil && bytes.Equal(old, now) {
				os.Remove(tmp.Name())
				return nil
			}
			err = &OverwriteError{Path: path}
			return err
		}
	}
	return os.Rename(tmp.Name(), path)
}

// archiveEntry is one entry of an artifact being written.
type archiveEntry struct {
	parts []string // path components under the stem
	file  *File    // nil for a directory
}

// WriteArtifact writes files as an artifact in format ".tar.gz" or
// ".zip", under the top-level directory stem, deterministically: entries
// sorted by path with every directory entry before what it holds; every
// entry's modification time mtime (whole seconds, UTC; a .zip clamps it
// to 1980, the earliest time it can hold); uid and gid 0 and no user or
// group names; modes 0755 for directories and for files with any
// executable bit, 0644 for other files; USTAR tar headers (PAX only for
// names USTAR cannot hold); a gzip header with no name and no time, and a
// fixed compression level. The same inputs give the same bytes.
func WriteArtifact(w io.Writer, format, stem string, files []File, mtime time.Time) error {
	if !stemRE.MatchString(stem) {
		return fmt.Errorf("write artifact: stem %q must be 1 to 100 of A-Z, a-z, 0-9, '_' and '-'", stem)
	}
	entries, err := artifactEntries(files)
	if err != nil {
		return fmt.Errorf("write artifact: %w", err)
	}
	mtime = mtime.UTC().Truncate(time.Second)
	switch format {
	case ".tar.gz":
		return writeTarGz(w, stem, entries, mtime)
	case ".zip":
		return writeZip(w, stem, entries, mtime)
	}
	return fmt.Errorf("write artifact: format %q: want .tar.gz or .zip", format)
}

// artifactEntries returns the directory and file entries for files, in
// the order they are written.
func artifactEntries(files []File) ([]archiveEntry, error) {
	var entries []archiveEntry
	kind := map[string]bool{} // path → is a file
	fold := map[string]string{}
	for i := range files {
		f := &files[i]
		if err := checkRelPath(f.Path); err != nil {
			return nil, fmt.Errorf("file %q: %w", f.Path, err)
		}
		if other, ok := fold[strings.ToLower(f.Path)]; ok {
			return nil, fmt.Errorf("file %q: %w: clashes with %q", f.Path, ErrDuplicate, other)
		}
		fold[strings.ToLower(f.Path)] = f.Path
		kind[f.Path] = true
		entries = append(entries, archiveEntry{parts: strings.Split(f.Path, "/"), file: f})
	}
	for i := range files {
		parts := strings.Split(files[i].Path, "/")
		for n := 1; n < len(parts); n++ {
			d := strings.Join(parts[:n], "/")
			isFile, seen := kind[d]
			if isFile {
				return nil, fmt.Errorf("file %q: %w: parent %q is a file", files[i].Path, ErrBadPath, d)
			}
			if !seen {
				if other, ok := fold[strings.ToLower(d)]; ok {
					return nil, fmt.Errorf("directory %q: %w: clashes with %q", d, ErrDuplicate, other)
				}
				fold[strings.ToLower(d)] = d
				kind[d] = false
				entries = append(entries, archiveEntry{parts: parts[:n]})
			}
		}
	}
	slices.SortFunc(entries, func(a, b archiveEntry) int { return slices.Compare(a.parts, b.parts) })
	return entries, nil
}

func writeTarGz(w io.Writer, stem string, entries []archiveEntry, mtime time.Time) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	// zw.Header stays zero: no name, no modification time.
	tw := tar.NewWriter(zw)
	hdr := func(name string, typ byte, mode int64, size int64) *tar.Header {
		return &tar.Header{Typeflag: typ, Name: name, Mode: mode, Size: size, ModTime: mtime}
	}
	if err := tw.WriteHeader(hdr(stem+"/", tar.TypeDir, 0o755, 0)); err != nil {
		return fmt.Errorf("write artifact: %w", err)
	}
	for _, e := range entries {
		name := stem + "/" + strings.Join(e.parts, "/")
		if e.file == nil {
			if err := tw.WriteHeader(hdr(name+"/", tar.TypeDir, 0o755, 0)); err != nil {
				return fmt.Errorf("write artifact: %s: %w", name, err)
			}
			continue
		}
		if err := tw.WriteHeader(hdr(name, tar.TypeReg, int64(normalMode(e.file.Mode&0o111 != 0)), int64(len(e.file.Data)))); err != nil {
			return fmt.Errorf("write artifact: %s: %w", name, err)
		}
		if _, err := tw.Write(e.file.Data); err != nil {
			return fmt.Errorf("write artifact: %s: %w", name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("write artifact: %w", err)
	}
	return zw.Close()
}

// zipEpoch is the earliest time an MS-DOS timestamp holds.
var zipEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

func writeZip(w io.Writer, stem string, entries []archiveEntry, mtime time.Time) error {
	if mtime.Before(zipEpoch) {
		mtime = zipEpoch
	}
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestCompression)
	})
	add := func(name string, mode fs.FileMode, data []byte) error {
		fh := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: mtime}
		if mode.IsDir() {
			fh.Method = zip.Store
		}
		fh.SetMode(mode)
		fw, err := zw.CreateHeader(fh)
		if err != nil {
			return fmt.Errorf("write artifact: %s: %w", name, err)
		}
		if _, err := fw.Write(data); err != nil {
			return fmt.Errorf("write artifact: %s: %w", name, err)
		}
		return nil
	}
	if err := add(stem+"/", fs.ModeDir|0o755, nil); err != nil {
		return err
	}
	for _, e := range entries {
		name := stem + "/" + strings.Join(e.parts, "/")
		var err error
		if e.file == nil {
			err = add(name+"/", fs.ModeDir|0o755, nil)
		} else {
			err = add(name, normalMode(e.file.Mode&0o111 != 0), e.file.Data)
		}
		if err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("write artifact: %w", err)
	}
	return nil
}
