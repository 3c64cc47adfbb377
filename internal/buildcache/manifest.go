package buildcache

import (
	"bufio"
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
	return readManifest(path)
}

// readManifest reads a tree manifest written by writeManifest, with the
// scanner: a member at a time, never the file whole. A key it does not
// know makes it fail (the manifest is only a cache: a miss).
func readManifest(path string) (*TreeManifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var m TreeManifest
	s := &scanner{r: bufio.NewReaderSize(f, 64<<10)}
	err = s.object(func(key string) error {
		var err error
		switch key {
		case "files":
			m.Files, err = s.stringMap()
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
	return &m, nil
}
