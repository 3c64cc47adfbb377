package e2e

import (
	"context"
	"crypto"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ebpfrepo/ebpfrepo/client"
	"github.com/ebpfrepo/ebpfrepo/repo"
	"github.com/ebpfrepo/ebpfrepo/tufrepo"
	"github.com/google/go-cmp/cmp"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// TestAttacksOnBuild attacks the output of the real build and checks
// that get (Resolve + Fetch) and mirror refuse with the specific error
// and write nothing.
func TestAttacksOnBuild(t *testing.T) {
	var (
		hashErr    *metadata.ErrLengthOrHashMismatch
		expiredErr *metadata.ErrExpiredMetadata
		versionErr *metadata.ErrBadVersionNumber
		lengthErr  *metadata.ErrDownloadLengthMismatch
		unsigned   *metadata.ErrUnsignedMetadata
	)
	for _, tc := range []struct {
		name string
		// attack changes the output (or the server) after the client
		// trusted the honest build, and returns the client to use.
		attack func(t *testing.T, b *Built, s *Server, c *client.Client) *client.Client
		want   func(error) bool
		what   string
	}{
		{
			name: "tampered artifact byte",
			attack: func(t *testing.T, b *Built, s *Server, c *client.Client) *client.Client {
				p, err := c.Info(context.Background(), "ratelimiting")
				if err != nil {
					t.Fatal(err)
				}
				tamper(t, filepath.Join(b.Out, "targets", "ratelimiting", "1.1.0", "jammy", want1(p, "1.1.0", "jammy")))
				return c
			},
			want: func(err error) bool { return errors.As(err, &hashErr) },
			what: "*metadata.ErrLengthOrHashMismatch",
		},
		{
			name: "tampered index file",
			attack: func(t *testing.T, b *Built, s *Server, c *client.Client) *client.Client {
				m, _ := filepath.Glob(filepath.Join(b.Out, "targets", "index", "*.ratelimiting.json"))
				if len(m) != 1 {
					t.Fatalf("index files %v", m)
				}
				data, _ := os.ReadFile(m[0])
				replace(t, m[0], []byte(strings.Replace(string(data), `"1.0.0"`, `"1.0.1"`, 1)))
				return c
			},
			want: func(err error) bool { return errors.As(err, &hashErr) },
			what: "*metadata.ErrLengthOrHashMismatch",
		},
		{
			name: "artifact swapped for another package's",
			attack: func(t *testing.T, b *Built, s *Server, c *client.Client) *client.Client {
				p, err := c.Info(context.Background(), "ratelimiting")
				if err != nil {
					t.Fatal(err)
				}
				q, err := c.Info(context.Background(), "tc-stats")
				if err != nil {
					t.Fatal(err)
				}
				other, err := os.ReadFile(filepath.Join(b.Out, "l3afd", filepath.FromSlash(q.Versions[0].Artifacts[0].Path)))
				if err != nil {
					t.Fatal(err)
				}
				if int64(len(other)) > p.Lookup("1.1.0").Artifact("jammy").Length {
					t.Fatalf("tc-stats artifact (%d bytes) is longer than ratelimiting's: pick a smaller one", len(other))
				}
				replace(t, filepath.Join(b.Out, "targets", "ratelimiting", "1.1.0", "jammy", want1(p, "1.1.0", "jammy")), other)
				return c
			},
			want: func(err error) bool { return errors.As(err, &hashErr) },
			what: "*metadata.ErrLengthOrHashMismatch",
		},
		{
			name: "endless artifact",
			attack: func(t *testing.T, b *Built, s *Server, c *client.Client) *client.Client {
				s.Wrap(func(next http.Handler) http.Handler {
					return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						if !strings.HasSuffix(r.URL.Path, ".l3af_ratelimiting.tar.gz") {
							next.ServeHTTP(w, r)
							return
						}
						buf := make([]byte, 32<<10)
						for range 1 << 11 { // 64 MiB
							if _, err := w.Write(buf); err != nil {
								return
							}
						}
					})
				})
				return c
			},
			want: func(err error) bool { return errors.As(err, &lengthErr) },
			what: "*metadata.ErrDownloadLengthMismatch",
		},
		{
			name: "wrong pinned root",
			attack: func(t *testing.T, b *Built, s *Server, c *client.Client) *client.Client {
				other := Build(t, time.Time{}, "tc-stats")
				return newClient(t, s.URL, other.Root)
			},
			want: func(err error) bool { return errors.As(err, &unsigned) },
			what: "*metadata.ErrUnsignedMetadata",
		},
		{
			name: "expired timestamp (freeze)",
			attack: func(t *testing.T, b *Built, s *Server, c *client.Client) *client.Client {
				// The timestamp expires a day after the build; the host
				// stops updating it. The client's clock is two days on.
				return newClient(t, s.URL, b.Root, func(o *client.Options) {
					o.Now = func() time.Time { return b.Now.Add(48 * time.Hour) }
				})
			},
			want: func(err error) bool {
				return errors.As(err, &expiredErr) && strings.Contains(err.Error(), "timestamp")
			},
			what: "*metadata.ErrExpiredMetadata (timestamp)",
		},
		{
			name: "rollback to the previous build's timestamp",
			attack: func(t *testing.T, b *Built, s *Server, c *client.Client) *client.Client {
				old, err := os.ReadFile(filepath.Join(b.Out, "metadata", "timestamp.json"))
				if err != nil {
					t.Fatal(err)
				}
				if err := b.Repo.Yank(context.Background(), "tc-stats", "0.3.1", "test", false); err != nil {
					t.Fatal(err)
				}
				b.Rebuild(t, b.Now.Add(time.Minute))
				if err := c.Refresh(context.Background()); err != nil {
					t.Fatalf("honest refresh of the new build: %v", err)
				}
				s.Wrap(serveAt("/repo/metadata/timestamp.json", old))
				return c
			},
			want: func(err error) bool {
				return errors.As(err, &versionErr) && strings.Contains(err.Error(), "timestamp")
			},
			what: "*metadata.ErrBadVersionNumber (timestamp)",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := Build(t, time.Time{}, "ratelimiting-1.0.0", "ratelimiting-1.1.0", "tc-stats")
			s := Serve(t, b.Out, "/repo/")
			ctx := context.Background()
			c := newClient(t, s.URL, b.Root, func(o *client.Options) { o.MaxAge = -1 })
			if err := c.Refresh(ctx); err != nil {
				t.Fatalf("honest refresh: %v", err)
			}
			c = tc.attack(t, b, s, c)
			dst := t.TempDir()
			rel, err := c.Resolve(ctx, "ratelimiting", "1.1.0", "jammy")
			if err == nil {
				_, err = c.Fetch(ctx, rel, dst)
			}
			if err == nil {
				t.Fatalf("attack not detected, want %s", tc.what)
			}
			if !tc.want(err) {
				t.Fatalf("got %v, want %s", err, tc.what)
			}
			if got := files(t, dst); len(got) != 0 {
				t.Errorf("get wrote %v", sortedKeys(got))
			}
			mdst := t.TempDir()
			if _, err := c.Mirror(ctx, mdst, "ratelimiting@1.1.0"); err == nil {
				t.Error("mirror succeeded under attack")
			}
			for p := range files(t, mdst) {
				if strings.Contains(p, "/jammy/") {
					t.Errorf("mirror wrote %s under attack", p)
				}
			}
		})
	}
}

// serveAt answers path p with data, everything else as before.
func serveAt(p string, data []byte) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == p {
				w.Write(data)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// TestYankRespected: a yanked version leaves ranges, latest and the
// mirror, and stays reachable by its exact version; undo restores it.
func TestYankRespected(t *testing.T) {
	b := Build(t, time.Time{}, "ratelimiting-1.0.0", "ratelimiting-1.1.0", "ratelimiting-2.0.0-rc.1")
	s := Serve(t, b.Out, "/repo/")
	ctx := context.Background()
	if err := b.Repo.Yank(ctx, "ratelimiting", "1.1.0", "bad map size", false); err != nil {
		t.Fatal(err)
	}
	b.Rebuild(t, b.Now.Add(time.Minute))
	c := newClient(t, s.URL, b.Root, func(o *client.Options) { o.MaxAge = -1 })
	for _, tc := range []struct{ constraint, want string }{
		{"latest", "1.0.0"},
		{"^1", "1.0.0"},
		{">=1.1.0 <2", ""},
		{"1.1.0", "1.1.0"},
	} {
		rel, err := c.Resolve(ctx, "ratelimiting", tc.constraint, "jammy")
		if tc.want == "" {
			if err == nil {
				t.Errorf("%q resolved to yanked %s", tc.constraint, rel.Version)
			}
			continue
		}
		if err != nil || rel.Version != tc.want {
			t.Errorf("%q: %q %v, want %s", tc.constraint, rel.Version, err, tc.want)
		}
		if tc.want == "1.1.0" && (rel.Yanked == nil || rel.Yanked.Reason != "bad map size") {
			t.Errorf("exact yanked version: Yanked = %+v, want the reason", rel.Yanked)
		}
	}
	if rel, err := c.Resolve(ctx, "ratelimiting", "1.1.0", "jammy"); err == nil {
		if _, err := c.Fetch(ctx, rel, t.TempDir()); err != nil {
			t.Errorf("fetch of the exact yanked version: %v", err)
		}
	}
	dir := t.TempDir()
	if _, err := c.Mirror(ctx, dir, "ratelimiting"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for p := range files(t, dir) {
		if strings.HasSuffix(p, "/jammy/l3af_ratelimiting.tar.gz") {
			got = append(got, strings.Split(p, "/")[1])
		}
	}
	if diff := cmp.Diff([]string{"1.0.0", "2.0.0-rc.1", "latest"}, sortStrings(got)); diff != "" {
		t.Errorf("mirror versions (-want +got):\n%s", diff)
	}
	p, _ := c.Info(ctx, "ratelimiting")
	if files(t, dir)["ratelimiting/latest/jammy/l3af_ratelimiting.tar.gz"] != p.Lookup("1.0.0").Artifact("jammy").SHA256 {
		t.Error("mirror latest is not 1.0.0")
	}

	if err := b.Repo.Yank(ctx, "ratelimiting", "1.1.0", "", true); err != nil {
		t.Fatal(err)
	}
	b.Rebuild(t, b.Now.Add(2*time.Minute))
	if rel, err := c.Resolve(ctx, "ratelimiting", "latest", "jammy"); err != nil || rel.Version != "1.1.0" {
		t.Errorf("after undo: latest = %q %v, want 1.1.0", rel.Version, err)
	}
	rep, err := c.Mirror(ctx, dir, "ratelimiting")
	if err != nil {
		t.Fatal(err)
	}
	var changed []string
	for _, e := range rep.Entries {
		if e.Action != "unchanged" && e.Platform == "jammy" {
			changed = append(changed, e.Action+" "+e.Path)
		}
	}
	want := []string{"written ratelimiting/1.1.0/jammy/l3af_ratelimiting.tar.gz", "replaced ratelimiting/latest/jammy/l3af_ratelimiting.tar.gz"}
	if diff := cmp.Diff(want, changed); diff != "" {
		t.Errorf("incremental mirror after undo (-want +got):\n%s", diff)
	}
}

func sortStrings(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// TestTimestampResignWarmClient: `ebpfrepo timestamp` re-signs only
// timestamp.json; a warm client sees the new version with one download
// (plus go-tuf's probe for a next root, a 404). The numbers are logged
// (go test -v -run TestTimestampResign ./e2e/).
func TestTimestampResignWarmClient(t *testing.T) {
	b := Build(t, time.Time{})
	s := Serve(t, b.Out, "/repo/")
	ctx := context.Background()
	c := newClient(t, s.URL, b.Root) // default MaxAge: metadata reused between calls
	s.Counter.Reset()

	rel, err := c.Resolve(ctx, "ratelimiting", "latest", "jammy")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Fetch(ctx, rel, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	coldReqs, coldBytes := s.Counter.Reset()
	t.Logf("cold get: %d requests, %d bytes: %v", len(coldReqs), coldBytes, coldReqs)
	// root probe, timestamp, snapshot, targets, bin of the index, index,
	// bin of the artifact (may be the same bin), artifact.
	if len(coldReqs) < 6 || len(coldReqs) > 8 {
		t.Errorf("cold get made %d requests, want 6 to 8", len(coldReqs))
	}

	if err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	warmReqs, warmBytes := s.Counter.Reset()
	t.Logf("warm check, nothing changed: %d requests, %d bytes: %v", len(warmReqs), warmBytes, warmReqs)

	tsBefore := timestampVersion(t, b.Out)
	if _, err := b.Repo.Timestamp(ctx, repo.TimestampOptions{OutDir: b.Out, Now: b.Now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	tsAfter := timestampVersion(t, b.Out)
	if tsAfter <= tsBefore {
		t.Fatalf("timestamp version %d → %d", tsBefore, tsAfter)
	}
	if err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	reqs, n := s.Counter.Reset()
	t.Logf("warm check after timestamp re-sign: %d requests, %d bytes: %v", len(reqs), n, reqs)
	want := []string{"Not Found /repo/metadata/2.root.json", "OK /repo/metadata/timestamp.json"}
	if diff := cmp.Diff(want, reqs); diff != "" {
		t.Errorf("requests after a timestamp re-sign (-want +got):\n%s", diff)
	}
	tsSize, _ := os.Stat(filepath.Join(b.Out, "metadata", "timestamp.json"))
	if n != tsSize.Size()+int64(len("404 page not found\n")) {
		t.Errorf("%d bytes transferred, want timestamp.json (%d) and a 404 body", n, tsSize.Size())
	}
	roles, err := c.Roles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles {
		if r.Name == metadata.TIMESTAMP && r.Version != tsAfter {
			t.Errorf("client trusts timestamp version %d, want %d", r.Version, tsAfter)
		}
	}
	// The warm get after the re-sign downloads nothing more: index and
	// artifact are verified copies in the cache.
	rel, err = c.Resolve(ctx, "ratelimiting", "latest", "jammy")
	if err == nil {
		_, err = c.Fetch(ctx, rel, t.TempDir())
	}
	if err != nil {
		t.Fatal(err)
	}
	if reqs, _ := s.Counter.Reset(); len(reqs) != 0 {
		t.Errorf("warm get made requests: %v", reqs)
	}
}

func timestampVersion(t *testing.T, out string) int64 {
	t.Helper()
	ts, err := metadata.Timestamp().FromFile(filepath.Join(out, "metadata", "timestamp.json"))
	if err != nil {
		t.Fatal(err)
	}
	return ts.Signed.Version
}

// TestKeyRotationOnBuild: the maintainer rotates the timestamp, snapshot
// and root keys and rebuilds; a warm client and a fresh one pinned to
// 1.root.json both follow, and the old timestamp key no longer counts.
func TestKeyRotationOnBuild(t *testing.T) {
	b := Build(t, time.Time{}, "ratelimiting-1.0.0", "tc-stats")
	s := Serve(t, b.Out, "/repo/")
	ctx := context.Background()
	warm := newClient(t, s.URL, b.Root, func(o *client.Options) { o.MaxAge = -1 })
	if err := warm.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	oldTS, _ := os.ReadFile(filepath.Join(b.Out, "metadata", "timestamp.json"))
	oldKey, err := tufrepo.LoadKeyFile(filepath.Join(b.Dir, "keys", "timestamp.pem"))
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range []string{"timestamp", "snapshot", "root"} {
		if err := b.Repo.RotateKey(ctx, role, repo.RotateOptions{Now: b.Now.Add(time.Second)}); err != nil {
			t.Fatalf("rotate %s: %v", role, err)
		}
	}
	b.Rebuild(t, b.Now.Add(time.Minute))
	roots, _ := filepath.Glob(filepath.Join(b.Out, "metadata", "*.root.json"))
	if len(roots) < 2 {
		t.Fatalf("published roots after rotations: %v", roots)
	}
	for name, c := range map[string]*client.Client{"warm": warm, "fresh": newClient(t, s.URL, b.Root)} {
		rel, err := c.Resolve(ctx, "ratelimiting", "latest", "jammy")
		if err == nil {
			_, err = c.Fetch(ctx, rel, t.TempDir())
		}
		if err != nil {
			t.Fatalf("%s client after rotation: %v", name, err)
		}
		roles, _ := c.Roles(ctx)
		if roles[0].Name != metadata.ROOT || roles[0].Version != int64(len(roots)) {
			t.Errorf("%s client trusts root version %d, want %d", name, roles[0].Version, len(roots))
		}
	}
	// A timestamp signed with the rotated-out key (an attacker who stole
	// it), with a version and expiry the client would otherwise accept,
	// is refused.
	ts, err := metadata.Timestamp().FromBytes(oldTS)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := metadata.Timestamp().FromFile(filepath.Join(b.Out, "metadata", "timestamp.json"))
	if err != nil {
		t.Fatal(err)
	}
	ts.Signed = cur.Signed
	ts.Signed.Version++
	signer, err := signature.LoadSigner(oldKey.Private, crypto.Hash(0))
	if err != nil {
		t.Fatal(err)
	}
	ts.ClearSignatures()
	if _, err := ts.Sign(signer); err != nil {
		t.Fatal(err)
	}
	data, err := ts.ToBytes(false)
	if err != nil {
		t.Fatal(err)
	}
	s.Wrap(serveAt("/repo/metadata/timestamp.json", data))
	var unsigned *metadata.ErrUnsignedMetadata
	if err := warm.Refresh(ctx); !errors.As(err, &unsigned) {
		t.Errorf("timestamp under the old key: got %v, want *metadata.ErrUnsignedMetadata", err)
	}
}
