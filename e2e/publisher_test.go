package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ebpfrepo/ebpfrepo/author"
	"github.com/ebpfrepo/ebpfrepo/client"
	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/internal/testpkgs"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
	"github.com/ebpfrepo/ebpfrepo/repo"
	"github.com/ebpfrepo/ebpfrepo/tufrepo"
)

// publisherRepo is a repository where publisher acme holds ratelimiting
// and publisher tcco holds tc-stats, both signed by their authors, and
// xdp-root is unclaimed. It returns the built repository and the
// authors' key files.
type publisherRepo struct {
	*Built
	keys  map[string]string // publisher → private key file
	dist  string            // packed artifacts
	arts  map[string]string // package dir → artifact path
	clock time.Time
}

func newPublisherRepo(t *testing.T) *publisherRepo {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	b := Build(t, now, "xdp-root")
	pr := &publisherRepo{Built: b, keys: map[string]string{}, dist: t.TempDir(), arts: map[string]string{}, clock: now}
	for pub, pkg := range map[string]string{"acme": "ratelimiting", "tcco": "tc-stats"} {
		priv, pubk, err := author.Keygen(filepath.Join(t.TempDir(), pub), "")
		if err != nil {
			t.Fatal(err)
		}
		pr.keys[pub] = priv
		if _, err := b.Repo.GrantPublisher(ctx, repo.GrantOptions{Publisher: pub, KeyFiles: []string{pubk}, Packages: []string{pkg}}); err != nil {
			t.Fatalf("grant %s: %v", pub, err)
		}
	}
	for _, d := range []string{"ratelimiting-1.1.0", "tc-stats"} {
		pr.arts[d] = testpkgs.Pack(t, testpkgs.Dir(d))
	}
	pr.signAndAdd(t, "acme", pr.arts["ratelimiting-1.1.0"])
	pr.signAndAdd(t, "tcco", pr.arts["tc-stats"])
	b.Rebuild(t, now)
	return pr
}

// signAndAdd signs artifacts as publisher pub (reading the current role
// from the repository directory) and adds them with the role.
func (p *publisherRepo) signAndAdd(t *testing.T, pub string, arts ...string) {
	t.Helper()
	role := p.sign(t, pub, p.keys[pub], arts...)
	if _, err := p.Repo.Add(context.Background(), arts, repo.AddOptions{Now: p.clock, Signed: []string{role}}); err != nil {
		t.Fatalf("add --signed %s: %v", role, err)
	}
}

func (p *publisherRepo) sign(t *testing.T, pub, key string, arts ...string) string {
	t.Helper()
	raw, _, err := author.Sign(context.Background(), arts, author.SignOptions{Publisher: pub, KeyFile: key, Repo: p.Dir, Now: p.clock})
	if err != nil {
		t.Fatalf("sign as %s: %v", pub, err)
	}
	f := filepath.Join(t.TempDir(), tufrepo.PublisherPrefix+pub+".json")
	if err := os.WriteFile(f, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestPublisherSignedEndToEnd(t *testing.T) {
	p := newPublisherRepo(t)
	srv := httptest.NewServer(http.FileServer(http.Dir(p.Out)))
	defer srv.Close()
	ctx := context.Background()

	// The index records who signs each package.
	c := newClient(t, srv.URL, p.Root)
	for name, want := range map[string]string{"ratelimiting": "acme", "tc-stats": "tcco", "xdp-root": ""} {
		pk, err := c.Info(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		sig := pk.Versions[0].Signatures
		if sig == nil || sig.Package.Publisher != want || (want != "") != (sig.Package.Signer == index.SignerPublisher) ||
			sig.Kernel.Status != index.StatusAbsent || sig.HVCI.Status != index.StatusAbsent {
			t.Errorf("%s: signatures %+v, want publisher %q", name, sig, want)
		}
		if want != "" && len(sig.Package.KeyIDs) != 1 {
			t.Errorf("%s: key ids %v, want the publisher's key", name, sig.Package.KeyIDs)
		}
	}

	strict := newClient(t, srv.URL, p.Root, func(o *client.Options) { o.Require = []string{client.LevelPublisher} })
	for _, tc := range []struct {
		name, constraint string
		publisher        string // "" = refused
	}{
		{"ratelimiting", "1.1.0", "acme"},
		{"tc-stats", "latest", "tcco"},
		{"xdp-root", "latest", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rel, err := strict.Resolve(ctx, tc.name, tc.constraint, "jammy")
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			_, err = strict.Fetch(ctx, rel, dir)
			if tc.publisher == "" {
				var pe *client.PolicyError
				if !errors.As(err, &pe) || !errors.Is(err, client.ErrPolicy) {
					t.Fatalf("--require publisher fetched an unclaimed package: %v", err)
				}
				if ents, _ := os.ReadDir(dir); len(ents) != 0 {
					t.Errorf("refused fetch wrote %v", ents)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sig, err := strict.SignerOf(ctx, rel)
			if err != nil || sig.Publisher != tc.publisher {
				t.Errorf("SignerOf = %+v, %v; want publisher %s", sig, err, tc.publisher)
			}
		})
	}
	// The index is descriptive: an index entry claiming other bytes than
	// the publisher signed is refused (the CI-signed index cannot vouch).
	rel, err := strict.Resolve(ctx, "ratelimiting", "1.1.0", "jammy")
	if err != nil {
		t.Fatal(err)
	}
	forged := rel
	forged.SHA256 = strings.Repeat("0", 64)
	var me *client.MismatchError
	if _, err := strict.Fetch(ctx, forged, t.TempDir()); !errors.As(err, &me) || !errors.Is(err, client.ErrVerification) {
		t.Fatalf("index claiming another hash: %v, want a *MismatchError", err)
	}

	// Mirror and proxy apply the policy per package.
	to := t.TempDir()
	_, err = strict.Mirror(ctx, to, "ratelimiting", "xdp-root")
	if !errors.Is(err, client.ErrPolicy) {
		t.Errorf("mirror --require publisher of an unclaimed package: %v, want ErrPolicy", err)
	}
	if _, err := os.Stat(filepath.Join(to, "ratelimiting", "1.1.0", "jammy", "l3af_ratelimiting.tar.gz")); err != nil {
		t.Errorf("mirror did not write the publisher-signed package: %v", err)
	}
	if _, err := os.Stat(filepath.Join(to, "xdp-root")); !os.IsNotExist(err) {
		t.Errorf("mirror wrote the unclaimed package (%v)", err)
	}
	px := httptest.NewServer(client.NewProxy(strict, client.ProxyOptions{}))
	defer px.Close()
	for path, want := range map[string]int{"/ratelimiting/latest/jammy/l3af_ratelimiting.tar.gz": 200, "/xdp-root/latest/jammy/l3af_xdp_root.tar.gz": 403} {
		res, err := http.Get(px.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != want || want == 403 && !strings.Contains(string(body), "repository-signed only") {
			t.Errorf("proxy %s: %d %q, want %d", path, res.StatusCode, body, want)
		}
	}

	// A pinned publisher that is not the one who signs is refused.
	pinned := newClient(t, srv.URL, p.Root, func(o *client.Options) { o.Publishers = map[string]string{"ratelimiting": "tcco"} })
	rel, err = pinned.Resolve(ctx, "ratelimiting", "latest", "jammy")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pinned.Fetch(ctx, rel, t.TempDir()); !errors.Is(err, client.ErrPolicy) {
		t.Fatalf("pinned to another publisher: %v, want ErrPolicy", err)
	}
}

// TestPublisherAttacks: what a holder of the repository's CI keys can do
// to a claimed package, and what stops it.
func TestPublisherAttacks(t *testing.T) {
	ctx := context.Background()
	p := newPublisherRepo(t)
	other := func(t *testing.T, version string) string {
		// ratelimiting@version with bytes its author never made.
		src := filepath.Join(t.TempDir(), "ratelimiting")
		if err := os.CopyFS(src, os.DirFS(testpkgs.Dir("ratelimiting-1.1.0"))); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, "README.md"), []byte("# ratelimiting\n\nforged\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		mf := filepath.Join(src, pkgfmt.ManifestFile)
		m, _ := os.ReadFile(mf)
		os.WriteFile(mf, []byte(strings.Replace(string(m), `version     = "1.1.0"`, `version     = "`+version+`"`, 1)), 0o644)
		art, err := pkgfmt.Pack(ctx, src, t.TempDir(), pkgfmt.PackOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return art
	}
	unchanged := func(t *testing.T) func() {
		before := files(t, p.Out)
		meta := files(t, filepath.Join(p.Dir, layout.RepoMetaDir))
		pkgs := files(t, filepath.Join(p.Dir, layout.PackagesDir))
		return func() {
			t.Helper()
			if after := files(t, p.Out); len(after) != len(before) || !sameFiles(before, after) {
				t.Error("the published output changed")
			}
			if after := files(t, filepath.Join(p.Dir, layout.RepoMetaDir)); !sameFiles(meta, after) {
				t.Error("the metadata of record changed")
			}
			if after := files(t, filepath.Join(p.Dir, layout.PackagesDir)); !sameFiles(pkgs, after) {
				t.Error("packages/ changed")
			}
		}
	}

	t.Run("CI puts other bytes in packages/", func(t *testing.T) {
		check := unchanged(t)
		dst := filepath.Join(p.Dir, "packages", "ratelimiting", "1.1.0", "l3af_ratelimiting.tar.gz")
		orig, _ := os.ReadFile(dst)
		forged, _ := os.ReadFile(other(t, "1.1.0"))
		replace(t, dst, forged)
		_, err := p.Repo.Build(ctx, repo.BuildOptions{OutDir: p.Out, Now: p.clock})
		replace(t, dst, orig)
		if !errors.Is(err, tufrepo.ErrTargetMismatch) || !strings.Contains(err.Error(), "acme") {
			t.Fatalf("build with forged claimed bytes: %v, want ErrTargetMismatch naming acme", err)
		}
		check()
	})
	t.Run("CI signs pub-acme.json with its own key", func(t *testing.T) {
		check := unchanged(t)
		art := other(t, "1.1.1")
		ciKey := filepath.Join(p.Dir, "keys", "bins.pem")
		role := p.sign(t, "acme", ciKey, art)
		_, err := p.Repo.Add(ctx, []string{art}, repo.AddOptions{Now: p.clock, Signed: []string{role}})
		if !errors.Is(err, tufrepo.ErrBadSignature) {
			t.Fatalf("add with a CI-signed role: %v, want ErrBadSignature", err)
		}
		check()
	})
	t.Run("a publisher signs another's package", func(t *testing.T) {
		check := unchanged(t)
		art := p.arts["ratelimiting-1.1.0"]
		md, _ := tufrepo.NextPublisherRole(nil, []tufrepo.Target{{Path: "ratelimiting/9.0.0/jammy/l3af_ratelimiting.tar.gz", Length: 1, SHA256: strings.Repeat("a", 64)}}, p.clock.Add(time.Hour*24*30))
		signer, _ := tufrepo.LoadSigner(p.keys["tcco"])
		cur, _ := os.ReadFile(filepath.Join(p.Dir, "metadata", "1.pub-tcco.json"))
		var base struct {
			Signed struct {
				Version int64 `json:"version"`
			} `json:"signed"`
		}
		json.Unmarshal(cur, &base)
		md.Signed.Version = base.Signed.Version + 1
		raw, _ := tufrepo.SignRole(md, signer)
		f := filepath.Join(t.TempDir(), "pub-tcco.json")
		os.WriteFile(f, raw, 0o644)
		_, err := p.Repo.Add(ctx, []string{art}, repo.AddOptions{Now: p.clock, Signed: []string{f}})
		if !errors.Is(err, tufrepo.ErrOutsideGrant) && !errors.Is(err, tufrepo.ErrHistoryChanged) {
			t.Fatalf("tcco signing ratelimiting: %v, want ErrOutsideGrant", err)
		}
		check()
	})
	t.Run("a claimed package added without its role", func(t *testing.T) {
		check := unchanged(t)
		_, err := p.Repo.Add(ctx, []string{other(t, "1.1.1")}, repo.AddOptions{Now: p.clock})
		var ie *repo.InvalidError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), "repo.unsigned-claimed") {
			t.Fatalf("add without --signed: %v, want repo.unsigned-claimed", err)
		}
		check()
	})
	t.Run("rollback of pub-acme.json", func(t *testing.T) {
		check := unchanged(t)
		cur, err := os.ReadFile(filepath.Join(p.Dir, "metadata", "1.pub-acme.json"))
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(t.TempDir(), "pub-acme.json")
		os.WriteFile(f, cur, 0o644)
		_, err = p.Repo.Add(ctx, []string{p.arts["ratelimiting-1.1.0"]}, repo.AddOptions{Now: p.clock, Signed: []string{f}})
		if !errors.Is(err, tufrepo.ErrRollback) {
			t.Fatalf("the published version again: %v, want ErrRollback", err)
		}
		check()
	})
	t.Run("an expired publisher role is never published", func(t *testing.T) {
		check := unchanged(t)
		_, err := p.Repo.Build(ctx, repo.BuildOptions{OutDir: p.Out, Now: p.clock.Add(tufrepo.DefaultPublisherExpiry + time.Hour)})
		if err == nil || !strings.Contains(err.Error(), "expired on") {
			t.Fatalf("build past the role's expiry: %v, want an error with the date", err)
		}
		check()
	})
}

func sameFiles(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
