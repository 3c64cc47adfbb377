package clienttest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"sort"
	"time"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// Repo is a published TUF repository laid out as ebpfrepo's build
// writes it: consistent snapshots, targets delegated to succinct hashed
// bins, hash-prefixed target files, index files as targets.
type Repo struct {
	t               TB
	Dir             string // published directory: metadata/, targets/
	Now             time.Time
	Keys            map[string]ed25519.PrivateKey
	Root            *metadata.Metadata[metadata.RootType]
	Version         int64 // version of targets/bins/snapshot/timestamp last published
	Pkgs            map[string]*index.Package
	Files           map[string][]byte // target path → bytes
	TimestampExpiry time.Duration
	// BeforeSign, if set, runs in Publish once the index files and the
	// summary are in Files and before the targets are signed: for
	// repositories whose signed targets disagree with their summary.
	BeforeSign func()
}

// TB is the part of testing.TB the builder uses; Example functions pass
// their own implementation.
type TB interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	TempDir() string
	Cleanup(func())
}

// Bits is the bit length of the succinct hashed bins (4 bins).
const Bits = 2

// New returns an empty repository with fresh keys and root version 1.
func New(t TB) *Repo {
	t.Helper()
	f := &Repo{t: t, Dir: t.TempDir(), Now: time.Now().UTC().Truncate(time.Second), Keys: map[string]ed25519.PrivateKey{},
		Pkgs: map[string]*index.Package{}, Files: map[string][]byte{}, TimestampExpiry: 24 * time.Hour}
	f.Root = metadata.Root(f.Now.AddDate(1, 0, 0))
	f.Root.Signed.ConsistentSnapshot = true
	for _, role := range []string{"root", "targets", "snapshot", "timestamp", "bins"} {
		f.NewKey(role)
	}
	f.SignRoot()
	return f
}

// NewKey gives role a fresh ed25519 key, revoking its previous one in
// root (call SignRoot or RotateRoot to publish the change).
func (f *Repo) NewKey(role string) {
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		f.t.Fatal(err)
	}
	if old, ok := f.Keys[role]; ok && role != "bins" {
		k, _ := metadata.KeyFromPublicKey(old.Public())
		if err := f.Root.Signed.RevokeKey(KeyID(k), role); err != nil {
			f.t.Fatal(err)
		}
	}
	f.Keys[role] = priv
	if role == "bins" {
		return
	}
	k, err := metadata.KeyFromPublicKey(priv.Public())
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.Root.Signed.AddKey(k, role); err != nil {
		f.t.Fatal(err)
	}
}

// Signer returns a signer for role's current key.
func (f *Repo) Signer(role string) signature.Signer {
	s, err := signature.LoadSigner(f.Keys[role], crypto.Hash(0))
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// signRoot signs the current root with the current root key (and the
// previous one, if given) and writes N.root.json.
func (f *Repo) SignRoot(prev ...ed25519.PrivateKey) {
	f.Root.ClearSignatures()
	for _, p := range prev {
		if p.Equal(f.Keys["root"]) {
			continue
		}
		s, _ := signature.LoadSigner(p, crypto.Hash(0))
		if _, err := f.Root.Sign(s); err != nil {
			f.t.Fatal(err)
		}
	}
	if _, err := f.Root.Sign(f.Signer("root")); err != nil {
		f.t.Fatal(err)
	}
	f.Write(fmt.Sprintf("metadata/%d.root.json", f.Root.Signed.Version), f.RootBytes())
}

func (f *Repo) RootBytes() []byte {
	b, err := f.Root.ToBytes(true)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// rotateRoot replaces the key of role with a new one and publishes the
// next root, signed by the old and the new root keys.
func (f *Repo) RotateRoot(role string) {
	prev := f.Keys["root"]
	f.NewKey(role)
	f.Root.Signed.Version++
	f.SignRoot(prev)
}

// Write writes a file of the published tree (tests tamper with it).
func (f *Repo) Write(rel string, data []byte) {
	p := filepath.Join(f.Dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// artifact builds an l3afd-shaped .tar.gz: one top-level directory named
// after the artifact stem, directories before files, cmd exec bit.
func Artifact(stem, name, version string) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	mt := time.Unix(0, 0)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: stem + "/", Mode: 0o755, ModTime: mt})
	files := []struct {
		name string
		mode int64
		data string
	}{
		{"ebpf-package.toml", 0o644, fmt.Sprintf("name = %q\nversion = %q\n", name, version)},
		{name + ".bpf.o", 0o644, "\x7fELF not really " + name + version},
		{name, 0o755, "#!/bin/sh\necho " + name + "\n"},
	}
	for _, fl := range files {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: stem + "/" + fl.name, Mode: fl.mode, Size: int64(len(fl.data)), ModTime: mt})
		tw.Write([]byte(fl.data))
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

// addPackage adds name@version built for platforms (published on the
// next publish).
func (f *Repo) AddPackage(name, version string, platforms ...string) {
	p := f.Pkgs[name]
	if p == nil {
		p = &index.Package{Schema: index.Schema, Name: name}
		f.Pkgs[name] = p
	}
	art := "l3af_" + name + ".tar.gz"
	v := index.Version{Version: version, Added: f.Now, Description: &pkgfmt.Description{Manifest: pkgfmt.Manifest{
		Name: name, Version: version, Description: "test package " + name, Artifact: art, Platforms: platforms,
		Keywords: []string{"l3af"}, L3afd: &pkgfmt.L3afd{CmdStart: name},
		Programs: []pkgfmt.Program{{Name: "xdp_" + name, Object: name + ".bpf.o", Type: "xdp", Chaining: "none"}},
	}}}
	for _, plat := range platforms {
		data := Artifact("l3af_"+name, name, version+plat)
		tp := path.Join(name, version, plat, art)
		f.Files[tp] = data
		sum := sha256.Sum256(data)
		v.Artifacts = append(v.Artifacts, index.Artifact{Platform: plat, Path: tp, Length: int64(len(data)), SHA256: hex.EncodeToString(sum[:])})
	}
	p.Versions = append(p.Versions, v)
	index.SortVersions(p.Versions)
}

func (f *Repo) Yank(name, version string) {
	v := f.Pkgs[name].Lookup(version)
	v.Yanked = &index.Yank{Reason: "broken", At: f.Now}
}

// publish writes the index files, artifacts and a new version of every
// targets, bin, snapshot and timestamp metadata file.
func (f *Repo) Publish() {
	f.Version++
	sum := index.Summary{Schema: index.Schema, Repository: "fixture"}
	names := make([]string, 0, len(f.Pkgs))
	for n := range f.Pkgs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := f.Pkgs[n]
		b, _ := json.MarshalIndent(p, "", "  ")
		tp := layout.PackageIndexTarget(n)
		f.Files[tp] = b
		h := sha256.Sum256(b)
		latest := ""
		if l := p.Latest(); l != nil {
			latest = l.Version
		}
		sum.Packages = append(sum.Packages, index.SummaryPackage{Name: n, Latest: latest, Description: "test package " + n,
			Keywords: []string{"l3af"}, ProgramTypes: []string{"xdp"}, Platforms: p.Versions[0].Platforms(), Versions: len(p.Versions), Index: tp,
			IndexLength: int64(len(b)), IndexSHA256: hex.EncodeToString(h[:])})
	}
	b, _ := json.MarshalIndent(sum, "", "  ")
	f.Files[layout.SummaryTarget] = b
	if f.BeforeSign != nil {
		f.BeforeSign()
	}

	exp := f.Now.AddDate(0, 3, 0)
	targets := metadata.Targets(exp)
	targets.Signed.Version = f.Version
	binKey, _ := metadata.KeyFromPublicKey(f.Keys["bins"].Public())
	sr := &metadata.SuccinctRoles{KeyIDs: []string{KeyID(binKey)}, Threshold: 1, BitLength: Bits, NamePrefix: "bins"}
	targets.Signed.Delegations = &metadata.Delegations{Keys: map[string]*metadata.Key{KeyID(binKey): binKey}, SuccinctRoles: sr}
	bins := map[string]*metadata.Metadata[metadata.TargetsType]{}
	for _, n := range sr.GetRoles() {
		bins[n] = metadata.Targets(exp)
		bins[n].Signed.Version = f.Version
	}
	for tp, data := range f.Files {
		tf, err := metadata.TargetFile().FromBytes(tp, data, "sha256")
		if err != nil {
			f.t.Fatal(err)
		}
		bins[sr.GetRolesForTarget(tp)[0].Name].Signed.Targets[tp] = tf
		dir, base := path.Split(tp)
		f.Write("targets/"+dir+hex.EncodeToString(tf.Hashes["sha256"])+"."+base, data)
	}
	snap := metadata.Snapshot(exp)
	snap.Signed.Version = f.Version
	for n, b := range bins {
		f.SignWrite(b, "bins", fmt.Sprintf("metadata/%d.%s.json", f.Version, n))
		snap.Signed.Meta[n+".json"] = metadata.MetaFile(f.Version)
	}
	f.SignWrite(targets, "targets", fmt.Sprintf("metadata/%d.targets.json", f.Version))
	snap.Signed.Meta["targets.json"] = metadata.MetaFile(f.Version)
	f.SignWrite(snap, "snapshot", fmt.Sprintf("metadata/%d.snapshot.json", f.Version))
	f.Timestamp()
}

// timestamp signs a new timestamp.json for the current snapshot.
func (f *Repo) Timestamp() {
	ts := metadata.Timestamp(f.Now.Add(f.TimestampExpiry))
	ts.Signed.Version = f.Version
	ts.Signed.Meta["snapshot.json"] = metadata.MetaFile(f.Version)
	f.SignWrite(ts, "timestamp", "metadata/timestamp.json")
	f.Write(fmt.Sprintf("metadata/%d.timestamp.json.bak", f.Version), f.Read("metadata/timestamp.json"))
}

func signWriteAny[T metadata.Roles](f *Repo, m *metadata.Metadata[T], role, rel string) {
	m.ClearSignatures()
	if _, err := m.Sign(f.Signer(role)); err != nil {
		f.t.Fatal(err)
	}
	b, err := m.ToBytes(true)
	if err != nil {
		f.t.Fatal(err)
	}
	f.Write(rel, b)
}

// SignWrite signs targets, snapshot or timestamp metadata with role's key
// and writes it at rel.
func (f *Repo) SignWrite(m any, role, rel string) {
	switch m := m.(type) {
	case *metadata.Metadata[metadata.TargetsType]:
		signWriteAny(f, m, role, rel)
	case *metadata.Metadata[metadata.SnapshotType]:
		signWriteAny(f, m, role, rel)
	case *metadata.Metadata[metadata.TimestampType]:
		signWriteAny(f, m, role, rel)
	default:
		f.t.Fatalf("signWrite %T", m)
	}
}

// Read reads a file of the published tree.
func (f *Repo) Read(rel string) []byte {
	b, err := os.ReadFile(filepath.Join(f.Dir, filepath.FromSlash(rel)))
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// targetFile is the published (hash-prefixed) path of a target.
func (f *Repo) TargetFile(tp string) string {
	sum := sha256.Sum256(f.Files[tp])
	dir, base := path.Split(tp)
	return "targets/" + dir + hex.EncodeToString(sum[:]) + "." + base
}

// serve serves the fixture over HTTP on 127.0.0.1, through wrap if set.
func (f *Repo) Serve(wrap func(http.Handler) http.Handler) *httptest.Server {
	var h http.Handler = http.FileServer(http.Dir(f.Dir))
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	f.t.Cleanup(srv.Close)
	return srv
}

// demo builds the standard fixture: two packages, several versions.
func Demo(t TB) *Repo {
	f := New(t)
	f.AddPackage("ratelimiting", "1.0.0", "jammy", "noble")
	f.AddPackage("ratelimiting", "1.1.0", "jammy", "noble")
	f.AddPackage("ratelimiting", "2.0.0-rc.1", "jammy", "noble")
	f.AddPackage("connlimit", "0.9.0", "jammy")
	f.AddPackage("connlimit", "1.0.0", "jammy")
	f.Yank("connlimit", "1.0.0")
	f.Publish()
	return f
}

// KeyID returns k's TUF key ID.
func KeyID(k *metadata.Key) string {
	id, err := k.ID()
	if err != nil {
		panic(err)
	}
	return id
}
