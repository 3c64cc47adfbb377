package client

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// swapHandler lets a test change the middleware of a running server.
type swapHandler struct {
	mu   sync.Mutex
	wrap func(http.Handler) http.Handler
}

func (s *swapHandler) set(w func(http.Handler) http.Handler) {
	s.mu.Lock()
	s.wrap = w
	s.mu.Unlock()
}

func (s *swapHandler) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		wrap := s.wrap
		s.mu.Unlock()
		if wrap != nil {
			wrap(next).ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// serveAt answers path p (exactly) with data, everything else from next.
func serveAt(p string, data []byte) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/"+p {
				w.Write(data)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// endless streams bytes forever at every path matching pred.
func endless(pred func(string) bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !pred(r.URL.Path) {
				next.ServeHTTP(w, r)
				return
			}
			buf := make([]byte, 32<<10)
			for i := 0; i < 1<<11; i++ { // 64 MiB, far beyond any signed length
				if _, err := w.Write(buf); err != nil {
					return
				}
			}
		})
	}
}

func binOf(tp string) string {
	sr := &metadata.SuccinctRoles{BitLength: fixtureBits, NamePrefix: "bins"}
	return sr.GetRolesForTarget(tp)[0].Name
}

const (
	rlIndex = "index/ratelimiting.json"
	rlArt   = "ratelimiting/1.1.0/jammy/l3af_ratelimiting.tar.gz"
	clArt   = "connlimit/0.9.0/jammy/l3af_connlimit.tar.gz"
)

func TestAttacks(t *testing.T) {
	type attack struct {
		name string
		// warm: the client refreshes against the honest repository first.
		warm bool
		// attack changes the repository or the server after warm-up.
		attack func(t *testing.T, f *fixture, sw *swapHandler, c *Client)
		mod    func(*Options)
		want   func(error) bool
		what   string
	}
	as := func(target any) func(error) bool { return func(err error) bool { return errors.As(err, target) } }
	and := func(a func(error) bool, sub string) func(error) bool {
		return func(err error) bool { return a(err) && strings.Contains(err.Error(), sub) }
	}
	var (
		hashErr    *metadata.ErrLengthOrHashMismatch
		versionErr *metadata.ErrBadVersionNumber
		expiredErr *metadata.ErrExpiredMetadata
		lengthErr  *metadata.ErrDownloadLengthMismatch
		unsigned   *metadata.ErrUnsignedMetadata
		fetchErr   *FetchError
		mismatch   *MismatchError
	)
	attacks := []attack{
		{
			name: "tampered artifact",
			attack: func(t *testing.T, f *fixture, _ *swapHandler, c *Client) {
				b := f.Read(f.TargetFile(rlArt))
				b[len(b)/2] ^= 0xff
				f.Write(f.TargetFile(rlArt), b)
			},
			want: as(&hashErr), what: "*metadata.ErrLengthOrHashMismatch",
		},
		{
			name: "tampered index file",
			attack: func(t *testing.T, f *fixture, _ *swapHandler, c *Client) {
				b := f.Read(f.TargetFile(rlIndex))
				f.Write(f.TargetFile(rlIndex), []byte(strings.Replace(string(b), `"1.1.0"`, `"9.9.9"`, 1)))
			},
			want: as(&hashErr), what: "*metadata.ErrLengthOrHashMismatch",
		},
		{
			name: "artifact swapped for another package's",
			attack: func(t *testing.T, f *fixture, _ *swapHandler, c *Client) {
				f.Write(f.TargetFile(rlArt), f.Files[clArt])
			},
			want: as(&hashErr), what: "*metadata.ErrLengthOrHashMismatch",
		},
		{
			name: "index disagrees with the signed targets",
			attack: func(t *testing.T, f *fixture, _ *swapHandler, c *Client) {
				// A validly signed index whose entry names other bytes
				// than the signed target: a repository bug or a
				// compromised bin key replaying an old index.
				a := f.Pkgs["ratelimiting"].Lookup("1.1.0").Artifact("jammy")
				a.SHA256 = strings.Repeat("ab", 32)
				f.Publish()
			},
			want: and(as(&mismatch), "sha256 mismatch"), what: "*MismatchError (sha256)",
		},
		{
			name: "rollback of timestamp",
			warm: true,
			attack: func(t *testing.T, f *fixture, sw *swapHandler, c *Client) {
				old := f.Read("metadata/1.timestamp.json.bak")
				f.AddPackage("ratelimiting", "1.2.0", "jammy")
				f.Publish()
				mustRefresh(t, c) // the client has seen version 2
				sw.set(serveAt("metadata/timestamp.json", old))
			},
			want: and(as(&versionErr), "new timestamp version 1 must be >= 2"), what: "*metadata.ErrBadVersionNumber (timestamp)",
		},
		{
			name: "rollback of snapshot",
			warm: true,
			attack: func(t *testing.T, f *fixture, _ *swapHandler, c *Client) {
				f.Publish()
				mustRefresh(t, c)
				// A timestamp (validly signed: a compromised online key)
				// pointing back at snapshot version 1.
				ts := metadata.Timestamp(f.Now.Add(time.Hour))
				ts.Signed.Version = 3
				ts.Signed.Meta["snapshot.json"] = metadata.MetaFile(1)
				f.SignWrite(ts, "timestamp", "metadata/timestamp.json")
			},
			want: and(as(&versionErr), "new snapshot version 1 must be >= 2"), what: "*metadata.ErrBadVersionNumber (snapshot)",
		},
		{
			name: "rollback of targets",
			warm: true,
			attack: func(t *testing.T, f *fixture, _ *swapHandler, c *Client) {
				f.Publish()
				mustRefresh(t, c)
				// A snapshot (validly signed) listing targets version 1 again.
				snap, err := metadata.Snapshot().FromBytes(f.Read("metadata/2.snapshot.json"))
				if err != nil {
					t.Fatal(err)
				}
				snap.Signed.Version = 3
				snap.Signed.Meta["targets.json"] = metadata.MetaFile(1)
				f.SignWrite(snap, "snapshot", "metadata/3.snapshot.json")
				ts := metadata.Timestamp(f.Now.Add(time.Hour))
				ts.Signed.Version = 3
				ts.Signed.Meta["snapshot.json"] = metadata.MetaFile(3)
				f.SignWrite(ts, "timestamp", "metadata/timestamp.json")
			},
			want: and(as(&versionErr), "expected targets.json version 1, got 2"), what: "*metadata.ErrBadVersionNumber (targets)",
		},
		{
			name: "mix-and-match: old targets with new snapshot",
			attack: func(t *testing.T, f *fixture, sw *swapHandler, c *Client) {
				old := f.Read("metadata/1.targets.json")
				f.Publish()
				sw.set(serveAt("metadata/2.targets.json", old))
			},
			want: and(as(&versionErr), "expected targets version 2, got 1"), what: "*metadata.ErrBadVersionNumber (targets v1 served as v2)",
		},
		{
			name: "mix-and-match: old hashed bin with new snapshot",
			attack: func(t *testing.T, f *fixture, sw *swapHandler, c *Client) {
				bin := binOf(rlArt)
				old := f.Read("metadata/1." + bin + ".json")
				f.Publish()
				sw.set(serveAt("metadata/2."+bin+".json", old))
			},
			want: and(as(&versionErr), "expected "+binOf(rlArt)+" version 2, got 1"), what: "*metadata.ErrBadVersionNumber (bin v1 served as v2)",
		},
		{
			name: "freeze: expired timestamp",
			mod:  func(o *Options) { o.Now = func() time.Time { return time.Now().Add(25 * time.Hour) } },
			want: and(as(&expiredErr), "timestamp.json is expired"), what: "*metadata.ErrExpiredMetadata (timestamp)",
		},
		{
			name: "endless artifact",
			attack: func(t *testing.T, f *fixture, sw *swapHandler, c *Client) {
				sw.set(endless(func(p string) bool { return strings.HasSuffix(p, ".l3af_ratelimiting.tar.gz") }))
			},
			want: as(&lengthErr), what: "*metadata.ErrDownloadLengthMismatch",
		},
		{
			name: "endless timestamp",
			attack: func(t *testing.T, f *fixture, sw *swapHandler, c *Client) {
				sw.set(endless(func(p string) bool { return p == "/metadata/timestamp.json" }))
			},
			want: as(&lengthErr), what: "*metadata.ErrDownloadLengthMismatch",
		},
		{
			name: "wrong trusted root",
			mod: func(o *Options) {
				o.TrustedRoot = newFixture(t).RootBytes()
			},
			want: as(&unsigned), what: "*metadata.ErrUnsignedMetadata",
		},
		{
			name: "timestamp signed by a revoked key after rotation",
			warm: true,
			attack: func(t *testing.T, f *fixture, _ *swapHandler, c *Client) {
				old := f.Keys["timestamp"]
				f.RotateRoot("timestamp")
				f.Publish()
				f.Keys["timestamp"] = old // the attacker holds the revoked key
				f.Version++
				f.Timestamp()
			},
			want: as(&unsigned), what: "*metadata.ErrUnsignedMetadata",
		},
		{
			name: "unreachable host",
			mod: func(o *Options) {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				o.RepoURL = "http://" + l.Addr().String()
				l.Close()
				o.Retries = 1
			},
			want: func(err error) bool { return errors.As(err, &fetchErr) && errors.Is(err, syscall.ECONNREFUSED) },
			what: "*FetchError wrapping ECONNREFUSED",
		},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			f := demo(t)
			sw := &swapHandler{}
			srv := f.Serve(sw.middleware)
			c := newTestClient(t, srv.URL, f.RootBytes(), func(o *Options) {
				o.MaxAge = -1
				if a.mod != nil {
					a.mod(o)
				}
			})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if a.warm {
				if err := c.Refresh(ctx); err != nil {
					t.Fatalf("honest refresh: %v", err)
				}
			}
			if a.attack != nil {
				a.attack(t, f, sw, c)
			}
			dst := t.TempDir()
			err := getInto(ctx, c, dst)
			if err == nil {
				t.Fatalf("attack not detected: fetch succeeded, want %s", a.what)
			}
			if !a.want(err) {
				t.Fatalf("got error %v (%T), want %s", err, errors.Unwrap(err), a.what)
			}
			// Callers tell a failed verification from a failed transfer
			// without go-tuf's types.
			if wantV := errors.As(err, &fetchErr) == false; errors.Is(err, ErrVerification) != wantV {
				t.Errorf("errors.Is(err, ErrVerification) = %t, want %t (err %v)", !wantV, wantV, err)
			}
			if files := treeFiles(t, dst); len(files) != 0 {
				t.Errorf("destination not empty after failure: %v", files)
			}
			// Mirror, too, writes nothing.
			mdst := t.TempDir()
			if _, err := c.Mirror(ctx, mdst, "ratelimiting@1.1.0"); err == nil {
				t.Error("mirror succeeded under attack")
			}
			// Other platforms may verify and be written; the attacked
			// artifact (jammy) never is.
			for _, p := range treeFiles(t, mdst) {
				if strings.Contains(p, "/jammy/") {
					t.Errorf("mirror wrote %s under attack", p)
				}
			}
			// Nothing unverified in the cache.
			if b, err := os.ReadFile(filepath.Join(c.CacheDir(), "targets", strings.ReplaceAll(rlArt, "/", "%2F"))); err == nil && !bytesEqual(b, f.Files[rlArt]) {
				t.Error("cache holds unverified artifact bytes")
			}
		})
	}
}

func mustRefresh(t *testing.T, c *Client) {
	t.Helper()
	if err := c.Refresh(context.Background()); err != nil {
		t.Fatalf("honest refresh: %v", err)
	}
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }

// getInto is what `ebpfrepo get` does: resolve then fetch.
func getInto(ctx context.Context, c *Client, dst string) error {
	rel, err := c.Resolve(ctx, "ratelimiting", "1.1.0", "jammy")
	if err != nil {
		return err
	}
	_, err = c.Fetch(ctx, rel, dst)
	return err
}

func TestKeyRotationFollowed(t *testing.T) {
	f := demo(t)
	srv := f.Serve(nil)
	c := newTestClient(t, srv.URL, f.RootBytes(), func(o *Options) { o.MaxAge = -1 })
	ctx := context.Background()
	if err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	// Rotate every key, root included (root v2 and v3), then rebuild.
	for _, role := range []string{"timestamp", "snapshot", "targets", "root"} {
		f.RotateRoot(role)
	}
	f.Keys["bins"] = ed25519.PrivateKey(nil)
	f.NewKey("bins")
	f.AddPackage("ratelimiting", "1.2.0", "jammy")
	f.Publish()
	dst := t.TempDir()
	rel, err := c.Resolve(ctx, "ratelimiting", "latest", "jammy")
	if err != nil {
		t.Fatalf("client did not follow the rotation: %v", err)
	}
	if rel.Version != "1.2.0" {
		t.Errorf("latest = %s after rotation, want 1.2.0", rel.Version)
	}
	if _, err := c.Fetch(ctx, rel, dst); err != nil {
		t.Fatal(err)
	}
	cached, err := metadata.Root().FromFile(filepath.Join(c.CacheDir(), "metadata", "root.json"))
	if err != nil {
		t.Fatal(err)
	}
	if want := f.Root.Signed.Version; cached.Signed.Version != want {
		t.Errorf("cached root version %d, want %d", cached.Signed.Version, want)
	}
	// A new client from the original pinned root follows the chain too.
	c2 := newTestClient(t, srv.URL, f.Read("metadata/1.root.json"))
	if _, err := c2.Resolve(ctx, "ratelimiting", "1.2.0", "jammy"); err != nil {
		t.Fatalf("fresh client from root v1: %v", err)
	}
	_ = fmt.Sprint()
}
