package e2e

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ebpfrepo/ebpfrepo/author"
	"github.com/ebpfrepo/ebpfrepo/client"
	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/internal/sigstoretest"
	"github.com/ebpfrepo/ebpfrepo/internal/testpkgs"
	"github.com/ebpfrepo/ebpfrepo/repo"
)

// onlyHost lets requests reach one host and fails every other: the
// client needs the repository, nothing else (no Sigstore TUF root, no
// Rekor lookup).
type onlyHost struct {
	t    *testing.T
	host string
	next http.RoundTripper
}

func (o onlyHost) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != o.host {
		o.t.Errorf("request outside the repository: %s", r.URL)
		return nil, errors.New("network access outside the repository")
	}
	return o.next.RoundTrip(r)
}

type noNetwork struct{ t *testing.T }

func (n noNetwork) RoundTrip(r *http.Request) (*http.Response, error) {
	n.t.Errorf("a request through http.DefaultClient: %s", r.URL)
	return nil, errors.New("no network")
}

// TestKeylessEndToEnd: a keyless package (Sigstore bundle from a CI
// workflow) and a keyed one (the author's key) side by side; both are
// publisher-signed with who signed them, through build → serve on
// 127.0.0.1 → get --require publisher, with no request anywhere but the
// repository.
func TestKeylessEndToEnd(t *testing.T) {
	ctx := context.Background()
	b := Build(t, time.Time{}, "xdp-root")
	in, err := sigstoretest.New("e2e", b.Now.AddDate(0, 0, -1))
	if err != nil {
		t.Fatal(err)
	}
	trust, _ := in.TrustedRoot()
	if err := b.Repo.UpdateTrustRoot(ctx, trust); err != nil {
		t.Fatal(err)
	}
	ci := sigstoretest.GitHubWorkflow("acme/tc-stats", ".github/workflows/release.yml", "refs/tags/v1.0.0", "0123456789abcdef0123456789abcdef01234567")
	if _, err := b.Repo.GrantKeyless(ctx, repo.KeylessGrantOptions{Publisher: "acme-ci", Issuer: ci.Issuer, Packages: []string{"tc-stats"},
		IdentityRegexps: []string{`https://github\.com/acme/tc-stats/\.github/workflows/release\.yml@refs/tags/v.*`}}); err != nil {
		t.Fatal(err)
	}
	priv, pub, err := author.Keygen(filepath.Join(t.TempDir(), "rl"), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Repo.GrantPublisher(ctx, repo.GrantOptions{Publisher: "rlco", KeyFiles: []string{pub}, Packages: []string{"ratelimiting"}}); err != nil {
		t.Fatal(err)
	}
	tc := testpkgs.Pack(t, testpkgs.Dir("tc-stats"))
	data, _ := os.ReadFile(tc)
	bundle, err := in.Bundle(data, ci, sigstoretest.Options{DSSE: true, SubjectName: filepath.Base(tc)})
	if err != nil {
		t.Fatal(err)
	}
	// Beside the artifact, add picks it up without --bundle.
	if err := os.WriteFile(tc+".sigstore.json", bundle, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Repo.Add(ctx, []string{tc}, repo.AddOptions{Now: b.Now}); err != nil {
		t.Fatal(err)
	}
	rl := testpkgs.Pack(t, testpkgs.Dir("ratelimiting-1.1.0"))
	role, _, err := author.Sign(ctx, []string{rl}, author.SignOptions{Publisher: "rlco", KeyFile: priv, Repo: b.Dir, Now: b.Now})
	if err != nil {
		t.Fatal(err)
	}
	rf := filepath.Join(t.TempDir(), "pub-rlco.json")
	os.WriteFile(rf, role, 0o644)
	if _, err := b.Repo.Add(ctx, []string{rl}, repo.AddOptions{Now: b.Now, Signed: []string{rf}}); err != nil {
		t.Fatal(err)
	}
	b.Rebuild(t, b.Now)

	srv := Serve(t, b.Out, "/")
	u, _ := url.Parse(srv.URL)
	saved := http.DefaultTransport
	http.DefaultTransport = noNetwork{t}
	t.Cleanup(func() { http.DefaultTransport = saved })
	strict := newClient(t, srv.URL, b.Root, func(o *client.Options) {
		o.Require = []string{client.LevelPublisher}
		o.HTTPClient = &http.Client{Transport: onlyHost{t, u.Host, saved}}
	})
	for _, want := range []struct{ name, publisher, identity string }{
		{"tc-stats", "acme-ci", ci.Identity},
		{"ratelimiting", "rlco", ""},
		{"xdp-root", "", ""},
	} {
		t.Run(want.name, func(t *testing.T) {
			rel, err := strict.Resolve(ctx, want.name, "latest", "")
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			_, err = strict.Fetch(ctx, rel, dir)
			if want.publisher == "" {
				if !errors.Is(err, client.ErrPolicy) {
					t.Fatalf("--require publisher fetched a repository-signed package: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sig, err := strict.SignerOf(ctx, rel)
			if err != nil || sig.Signer != index.SignerPublisher || sig.Publisher != want.publisher {
				t.Fatalf("SignerOf = %+v, %v", sig, err)
			}
			if (sig.Keyless != nil) != (want.identity != "") || sig.Keyless != nil && (sig.Keyless.Identity != want.identity || sig.Keyless.Kind != "dsse") {
				t.Errorf("keyless evidence %+v", sig.Keyless)
			}
		})
	}
}
