package repo

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ebpfrepo/ebpfrepo/client"
	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/internal/sigstoretest"
	"github.com/ebpfrepo/ebpfrepo/keyless"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/tufrepo"
)

const ghIssuer = "https://token.actions.githubusercontent.com"

var ciSigner = sigstoretest.GitHubWorkflow("acme/tc-stats", ".github/workflows/release.yml", "refs/tags/v1.0.0", "89abcdef0123456789abcdef0123456789abcdef")

// keylessRepo is a repository pinning a test Sigstore instance's root,
// with tc-stats granted to keyless publisher acme-ci.
func keylessRepo(t *testing.T) (*Repo, *sigstoretest.Instance) {
	t.Helper()
	ctx := context.Background()
	r := newRepo(t)
	in, err := sigstoretest.New("test", time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	root, err := in.TrustedRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.GrantKeyless(ctx, KeylessGrantOptions{Publisher: "acme-ci", Issuer: ghIssuer, Packages: []string{"tc-stats"},
		IdentityRegexps: []string{`https://github\.com/acme/tc-stats/\.github/workflows/release\.yml@refs/tags/v.*`}}); err == nil {
		t.Fatal("a keyless grant was accepted before a trusted root was pinned")
	}
	if err := r.UpdateTrustRoot(ctx, root); err != nil {
		t.Fatal(err)
	}
	if _, err := r.GrantKeyless(ctx, KeylessGrantOptions{Publisher: "acme-ci", Issuer: ghIssuer, Packages: []string{"tc-stats"},
		IdentityRegexps: []string{`https://github\.com/acme/tc-stats/\.github/workflows/release\.yml@refs/tags/v.*`}}); err != nil {
		t.Fatal(err)
	}
	return r, in
}

func bundleFor(t *testing.T, in *sigstoretest.Instance, artifact string, s sigstoretest.Signer, o sigstoretest.Options) string {
	t.Helper()
	data, err := os.ReadFile(artifact)
	if err != nil {
		t.Fatal(err)
	}
	b, err := in.Bundle(data, s, o)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "bundle.sigstore.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func problemCodes(err error) []string {
	var ie *InvalidError
	if !errors.As(err, &ie) {
		return nil
	}
	var out []string
	for _, p := range ie.Problems {
		out = append(out, p.Code+": "+p.Message)
	}
	return out
}

// TestKeylessAdd: a keyless publisher's package is added only with a
// bundle that verifies; every refusal names its check and writes nothing.
func TestKeylessAdd(t *testing.T) {
	r, in := keylessRepo(t)
	ctx := context.Background()
	art := packed(t, "tc-stats")
	other := packed(t, "xdp-root")
	mallory := sigstoretest.GitHubWorkflow("mallory/tc-stats", ".github/workflows/release.yml", "refs/tags/v1.0.0", "")
	gitlab := ciSigner
	gitlab.Issuer = "https://gitlab.com"
	otherCA, err := in.WithOtherCA()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	expired := sigstoretest.Options{SignedAt: now, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(-50 * time.Minute)}
	truncated := bundleFor(t, in, art, ciSigner, sigstoretest.Options{})
	if b, err := os.ReadFile(truncated); err != nil || os.WriteFile(truncated, b[:len(b)/2], 0o644) != nil {
		t.Fatal("truncating the bundle")
	}
	// One refusal per check of keyless.Verify, through add.
	for _, tc := range []struct {
		name, bundle, want string
	}{
		{"no bundle", "", "repo.keyless-unsigned"},
		{"truncated", truncated, "bundle check failed"},
		{"expired at signing", bundleFor(t, in, art, ciSigner, expired), "certificate validity check failed"},
		{"no log entry", bundleFor(t, in, art, ciSigner, sigstoretest.Options{NoTlog: true}), "transparency log check failed"},
		{"untrusted CA", bundleFor(t, otherCA, art, ciSigner, sigstoretest.Options{}), "certificate chain check failed"},
		{"no SCT", bundleFor(t, in, art, ciSigner, sigstoretest.Options{NoSCT: true}), "certificate transparency check failed"},
		{"wrong identity", bundleFor(t, in, art, mallory, sigstoretest.Options{}), "identity check failed: found https://github.com/mallory/"},
		{"wrong issuer", bundleFor(t, in, art, gitlab, sigstoretest.Options{}), "issuer check failed"},
		{"another file", bundleFor(t, in, other, ciSigner, sigstoretest.Options{}), "artifact digest check failed"},
		{"bad DSSE signature", bundleFor(t, in, art, ciSigner, sigstoretest.Options{DSSE: true, BadSignature: true}), "signature check failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.Add(ctx, []string{art}, AddOptions{Now: t0, Bundle: tc.bundle})
			codes := problemCodes(err)
			if len(codes) != 1 || !strings.Contains(codes[0], tc.want) {
				t.Fatalf("error %v (%q), want one problem with %q", err, codes, tc.want)
			}
			if _, err := os.Stat(r.paths().Packages() + "/tc-stats"); !os.IsNotExist(err) {
				t.Errorf("something was written: %v", err)
			}
		})
	}
	if _, err := r.Add(ctx, []string{other}, AddOptions{Now: t0, Bundle: bundleFor(t, in, other, ciSigner, sigstoretest.Options{})}); len(problemCodes(err)) != 1 ||
		!strings.Contains(problemCodes(err)[0], "repo.keyless-unclaimed") {
		t.Errorf("a bundle for an unclaimed package: %v", err)
	}
	res, err := r.Add(ctx, []string{art}, AddOptions{Now: t0, Bundle: bundleFor(t, in, art, ciSigner, sigstoretest.Options{DSSE: true})})
	if err != nil {
		t.Fatal(err)
	}
	if k := res[0].Keyless; k == nil || k.Identity != ciSigner.Identity || k.Kind != "dsse" || k.Commit != ciSigner.Commit {
		t.Errorf("add result: %+v", k)
	}
}

// TestKeylessBuild: the build publishes the keyless files (listed by the
// top-level targets role), the bundle beside each artifact target, and
// the evidence in the index; it refuses a bundle replaced in packages/
// and a keyless file that is not what targets signs.
func TestKeylessBuild(t *testing.T) {
	r, in := keylessRepo(t)
	ctx := context.Background()
	art := packed(t, "tc-stats")
	added, err := r.Add(ctx, []string{art}, AddOptions{Now: t0, Bundle: bundleFor(t, in, art, ciSigner, sigstoretest.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	addGood(t, r, "xdp-root")
	build(t, r, BuildOptions{})
	out := r.paths().Public()
	srv := serve(t, out)
	root, err := os.ReadFile(filepath.Join(out, layout.FirstRoot))
	if err != nil {
		t.Fatal(err)
	}
	c := newTUFClient(t, srv.URL, root, t0)
	up, err := c.refresh()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{layout.KeylessPublishers, layout.KeylessTrustRoot} {
		tp := layout.KeylessTarget(f)
		if _, ok := up.GetTopLevelTargets()[tp]; !ok {
			t.Errorf("%s: not listed by the top-level targets role", tp)
		}
		c.download(up, tp)
	}
	var p index.Package
	if err := json.Unmarshal(c.download(up, layout.PackageIndexTarget("tc-stats")), &p); err != nil {
		t.Fatal(err)
	}
	v := p.Versions[0]
	k := v.Signatures.Package.Keyless
	if v.Signatures.Package.Signer != index.SignerPublisher || k == nil || k.Identity != ciSigner.Identity || k.Log != in.LogURL() {
		t.Fatalf("signatures %+v keyless %+v", v.Signatures.Package, k)
	}
	for _, a := range v.Artifacts {
		c.download(up, layout.BundleTarget(a.Path))
	}
	page, err := os.ReadFile(filepath.Join(out, layout.PackagePage("tc-stats")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"signed by publisher acme-ci (keyless)", "Who signed it?", ciSigner.Identity, ciSigner.Commit, in.LogURL() + "/api/v1/log/entries?logIndex="} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the package page does not show %q", want)
		}
	}

	t.Run("bundle replaced", func(t *testing.T) {
		bp := added[0].Path + layout.BundleSuffix
		good, err := os.ReadFile(bp)
		if err != nil {
			t.Fatal(err)
		}
		defer os.WriteFile(bp, good, 0o644)
		mallory := sigstoretest.GitHubWorkflow("mallory/tc-stats", ".github/workflows/release.yml", "refs/tags/v1.0.0", "")
		data, _ := os.ReadFile(bundleFor(t, in, art, mallory, sigstoretest.Options{}))
		if err := os.WriteFile(bp, data, 0o644); err != nil {
			t.Fatal(err)
		}
		before := tree(t, out)
		_, err = r.Build(ctx, BuildOptions{Now: t0})
		if codes := problemCodes(err); len(codes) != 1 || !strings.Contains(codes[0], "repo.keyless-bundle") || !strings.Contains(codes[0], "identity check failed") {
			t.Fatalf("build: %v", err)
		}
		if diff := cmpTrees(before, tree(t, out)); diff != "" {
			t.Errorf("the output changed: %s", diff)
		}
	})
	t.Run("publishers.json edited", func(t *testing.T) {
		files, _ := filepath.Glob(r.paths().Keyless("*." + layout.KeylessPublishers))
		if len(files) != 1 {
			t.Fatalf("keyless files %v", files)
		}
		good, _ := os.ReadFile(files[0])
		defer os.WriteFile(files[0], good, 0o644)
		os.WriteFile(files[0], []byte(strings.Replace(string(good), "acme", "mallory", -1)), 0o644)
		if _, err := r.Build(ctx, BuildOptions{Now: t0}); err == nil || !strings.Contains(err.Error(), "not what the targets role signs") {
			t.Fatalf("build: %v", err)
		}
	})
}

func cmpTrees(a, b map[string]string) string {
	for k, v := range a {
		if b[k] != v {
			return k
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			return k
		}
	}
	return ""
}

// TestKeylessGrantOverlap: keyed and keyless grants never share a package
// or a name.
func TestKeylessGrantOverlap(t *testing.T) {
	r, _ := keylessRepo(t)
	ctx := context.Background()
	key := filepath.Join(t.TempDir(), "acme")
	k, err := tufrepo.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := k.PublicPEM()
	os.WriteFile(key+".pub", pub, 0o644)
	if _, err := r.GrantPublisher(ctx, GrantOptions{Publisher: "acme", KeyFiles: []string{key + ".pub"}, Packages: []string{"tc-*"}}); !errors.Is(err, tufrepo.ErrOverlap) {
		t.Errorf("keyed grant over a keyless one: %v", err)
	}
	if _, err := r.GrantPublisher(ctx, GrantOptions{Publisher: "acme", KeyFiles: []string{key + ".pub"}, Packages: []string{"xdp-root"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.GrantKeyless(ctx, KeylessGrantOptions{Publisher: "other", Issuer: ghIssuer, Identities: []string{"x"}, Packages: []string{"xdp-*"}}); !errors.Is(err, tufrepo.ErrOverlap) {
		t.Errorf("keyless grant over a keyed one: %v", err)
	}
	if err := r.RevokePublisher(ctx, "acme-ci"); err != nil {
		t.Fatal(err)
	}
	if ps, err := r.KeylessPublishers(ctx); err != nil || len(ps) != 0 {
		t.Errorf("after remove: %v %v", ps, err)
	}
}

// TestKeylessForgedByCI: a CI that ignores publishers.json (it holds the
// online keys: it can sign bins and publish any bundle) publishes
// tc-stats with a bundle from another identity. The client, reading the
// grant the offline targets role signs, refuses it and writes nothing.
func TestKeylessForgedByCI(t *testing.T) {
	r, in := keylessRepo(t)
	ctx := context.Background()
	art := packed(t, "tc-stats")
	mallory := sigstoretest.GitHubWorkflow("mallory/tc-stats", ".github/workflows/release.yml", "refs/tags/v1.0.0", "")
	testHookKeylessGrant = func(g keyless.Publisher) keyless.Publisher {
		g.Identities = []keyless.Identity{{SAN: mallory.Identity, Issuer: ghIssuer}}
		return g
	}
	defer func() { testHookKeylessGrant = nil }()
	added, err := r.Add(ctx, []string{art}, AddOptions{Now: t0, Bundle: bundleFor(t, in, art, ciSigner, sigstoretest.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(bundleFor(t, in, art, mallory, sigstoretest.Options{}))
	if err := os.WriteFile(added[0].Path+layout.BundleSuffix, data, 0o644); err != nil {
		t.Fatal(err)
	}
	// The build's own check before the swap verifies bundles as a client
	// would, and refuses to publish; the compromised CI skips it.
	if _, err := r.Build(ctx, BuildOptions{Now: time.Now()}); err == nil || !strings.Contains(err.Error(), "failed its own check") ||
		!strings.Contains(err.Error(), "identity check failed") {
		t.Fatalf("build with a bundle from another identity: %v, want the self-check to refuse it", err)
	}
	testHookSkipCheck = true
	defer func() { testHookSkipCheck = false }()
	build(t, r, BuildOptions{Now: time.Now()})
	out := r.paths().Public()
	srv := serve(t, out)
	root, _ := os.ReadFile(filepath.Join(out, layout.FirstRoot))
	c, err := client.New(client.Options{RepoURL: srv.URL, TrustedRoot: root, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	rel, err := c.Resolve(ctx, "tc-stats", "latest", "")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, err = c.Fetch(ctx, rel, dir)
	var ke *client.KeylessError
	var ve *keyless.VerifyError
	if !errors.As(err, &ke) || !errors.As(err, &ve) || ve.Check != keyless.CheckIdentity || !errors.Is(err, client.ErrVerification) {
		t.Fatalf("fetch of a forged keyless package: %v, want a KeylessError failing the identity check", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("the refused fetch wrote %v", ents)
	}
	// ebpfrepo check finds it, with the check that failed.
	if _, err := c.Check(ctx); !errors.As(err, &ve) || ve.Check != keyless.CheckIdentity || !strings.Contains(err.Error(), layout.BundleSuffix) {
		t.Errorf("check of a forged keyless package: %v", err)
	}
	// ebpfrepo verify of the same bytes (a file someone handed you) too.
	artData, _ := os.ReadFile(art)
	_, err = c.VerifyArtifact(ctx, rel.Name, rel.Version, rel.Artifact, []string{rel.Platform}, artData)
	if !errors.As(err, &ve) || ve.Check != keyless.CheckIdentity {
		t.Fatalf("verify of a forged keyless package: %v, want the identity check to fail", err)
	}
}
