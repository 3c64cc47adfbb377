package buildcache

import (
	"bufio"
	"errors"
	"fmt"
	"os"
)

// TreeManifest lists the files of an output tree outside the catalogue,
// path (slash-separated, relative) → sha256 of the content, and the
// fingerprint of each package's catalogue pages. A build records it beside
// the tree it wrote so the next build can reuse that tree without reading
// it; it is only a cache.
type TreeManifest struct {
	Files map[string]string `json:"files"`
	// Catalogue maps each package to the fingerprint of its catalogue
	// pages in the tree (site.WriteResult.Fingerprints), so that the next
	// build renders only the packages that changed.
	Catalogue map[string]string `json:"catalogue,omitempty"`
	// Retired maps each file the tree keeps only for the grace period
	// (it left the current metadata) to when it left, in Unix seconds.
	Retired map[string]string `json:"retired,omitempty"`
}

// WriteManifest writes m to path (atomically, without fsync), streaming
// the same bytes json.Marshal would give.
func WriteManifest(path string, m *TreeManifest) error {
	return writeFileFunc(path, func(w *bufio.Writer) error { return writeManifest(w, m) })
}

// writeManifest writes m as json.Marshal would.
func writeManifest(w *bufio.Writer, m *TreeManifest) error {
	w.WriteString(`{"files":`)
	if err := writeJSONMap(w, m.Files, jsonString); err != nil {
		return err
	}
	if len(m.Catalogue) > 0 {
		w.WriteString(`,"catalogue":`)
		if err := writeJSONMap(w, m.Catalogue, jsonString); err != nil {
			return err
		}
	}
	if len(m.Retired) > 0 {
		w.WriteString(`,"retired":`)
		if err := writeJSONMap(w, m.Retired, jsonString); err != nil {
			return err
		}
	}
	_, err := w.WriteString("}")
	return err
}

// ReadManifest reads a tree manifest written by WriteManifest, a member at
// a time (it never holds the file whole).
func ReadManifest(path string) (*TreeManifest, error) {
	return readManifest(path, nil)
}

// ScanManifest reads a tree manifest as ReadManifest does but hands each
// file (path, sha256) to each as it is read instead of holding them: the
// manifest returned has no Files. A manifest without files (or with
// files null) is an error. each may have been called for some files of a
// manifest that then fails to read: what it gathered is only good once
// ScanManifest returns without error.
func ScanManifest(path string, each func(rel, sha string) error) (*TreeManifest, error) {
	if each == nil {
		return nil, errors.New("no function for the files")
	}
	return readManifest(path, each)
}

// readManifest reads a tree manifest written by writeManifest, with the
// scanner: a member at a time, never the file whole. A key it does not
// know makes it fail (the manifest is only a cache: a miss). With each
// set, the files go to each (see ScanManifest).
func readManifest(path string, each func(rel, sha string) error) (*TreeManifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var m TreeManifest
	s := &scanner{r: bufio.NewReaderSize(f, 64<<10)}
	files := false
	err = s.object(func(key string) error {
		var err error
		switch key {
		case "files":
			if each == nil {
				m.Files, err = s.stringMap()
			} else if null, serr := s.eachString(nil, each); serr != nil {
				err = serr
			} else if null {
				err = errors.New("files is null")
			}
			files = true
		case "catalogue":
			m.Catalogue, err = s.stringMap()
		case "retired":
			m.Retired, err = s.stringMap()
		default:
			err = fmt.Errorf("unknown member %q", key)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if each != nil && !files {
		return nil, errors.New("no files")
	}
	return &m, nil
}
