package repo

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"io"
	"strings"
	"sync"

	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

// A build validates every version before it writes any index file, and
// a description is bulky (programs, maps, files, README, kernel report):
// holding all of them decoded is most of a cold build's heap. So from
// validation until its package's index file is written, a version keeps
// its description as deflated JSON (the form the description cache
// already round-trips exactly) plus a stub with what the checks between
// the two read: the manifest's name, version and artifact, and the
// problems.

var (
	flateWriters sync.Pool // *flate.Writer
	flateReaders sync.Pool // io.ReadCloser that is a flate.Resetter
)

// setDesc keeps d packed: raw is its JSON encoding.
func (it *item) setDesc(d *pkgfmt.Description, raw []byte) {
	var b bytes.Buffer
	w, _ := flateWriters.Get().(*flate.Writer)
	if w == nil {
		w, _ = flate.NewWriter(&b, flate.BestSpeed)
	} else {
		w.Reset(&b)
	}
	_, err := w.Write(raw)
	if err == nil {
		err = w.Close()
	}
	flateWriters.Put(w)
	if err != nil {
		it.desc, it.packed = d, nil // keep it whole
		return
	}
	it.packed = bytes.Clone(b.Bytes())
	// The stub's strings are copied: a decoded manifest's strings share
	// the manifest's whole text (the TOML decoder slices its input), and
	// the stub lives until the package's index is written — 2 KB a
	// version, 20 MB at 10,000 versions, held only for three names.
	m := &d.Manifest
	it.desc = &pkgfmt.Description{Manifest: pkgfmt.Manifest{Name: strings.Clone(m.Name), Version: strings.Clone(m.Version),
		Artifact: strings.Clone(m.Artifact)}, Problems: d.Problems}
}

// description returns the whole description of a validated item and
// drops the item's copy.
func (it *item) description() (*pkgfmt.Description, error) {
	if it.packed == nil {
		d := it.desc
		it.desc = nil
		return d, nil
	}
	src := bytes.NewReader(it.packed)
	r, _ := flateReaders.Get().(io.ReadCloser)
	if r == nil {
		r = flate.NewReader(src)
	} else if err := r.(flate.Resetter).Reset(src, nil); err != nil {
		return nil, err
	}
	defer flateReaders.Put(r)
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var d pkgfmt.Description
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	it.desc, it.packed = nil, nil
	return &d, nil
}
