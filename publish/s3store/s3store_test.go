package s3store_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ebpfrepo/ebpfrepo/client"
	"github.com/ebpfrepo/ebpfrepo/e2e"
	"github.com/ebpfrepo/ebpfrepo/internal/s3test"
	"github.com/ebpfrepo/ebpfrepo/internal/testpkgs"
	"github.com/ebpfrepo/ebpfrepo/publish"
	"github.com/ebpfrepo/ebpfrepo/publish/s3store"
	"github.com/ebpfrepo/ebpfrepo/repo"
)

func newClient(t *testing.T, url string, root []byte, now time.Time) *client.Client {
	t.Helper()
	c, err := client.New(client.Options{RepoURL: url, TrustedRoot: root, CacheDir: t.TempDir(), Retries: -1, MaxAge: -1,
		Now: func() time.Time { return now.Add(time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func publishTo(t *testing.T, srv *s3test.Server, dir, dest string) *publish.Result {
	t.Helper()
	st, err := s3store.New(context.Background(), dest, s3store.Options{Endpoint: srv.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	res, err := publish.Publish(context.Background(), dir, st, publish.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestPublishS3: a repository published to a real S3-compatible server
// is what clients read over plain HTTP: it checks completely, get works,
// each object carries its Cache-Control and Content-Type, and a second
// publish after one added package uploads only what changed.
func TestPublishS3(t *testing.T) {
	srv := s3test.Start(t)
	srv.Env(t)
	srv.Bucket(t, "ebpf", true)
	now := time.Now().UTC().Truncate(time.Second)
	b := e2e.Build(t, now, "ratelimiting-1.0.0", "tc-stats")
	first := publishTo(t, srv, b.Out, "s3://ebpf/repo")
	url := srv.URL("ebpf", "repo")
	ctx := context.Background()
	if _, err := newClient(t, url, b.Root, now).Check(ctx); err != nil {
		t.Fatalf("check through the S3 server: %v", err)
	}
	for path, want := range map[string][2]string{
		"metadata/timestamp.json": {"no-cache", "application/json"},
		"metadata/1.root.json":    {"immutable", "application/json"},
		"index.html":              {"no-cache", "text/html"},
	} {
		res, err := http.Head(url + "/" + path)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Cache-Control"), want[0]) || !strings.HasPrefix(res.Header.Get("Content-Type"), want[1]) {
			t.Errorf("%s: %d, Cache-Control %q, Content-Type %q; want %v", path, res.StatusCode, res.Header.Get("Cache-Control"), res.Header.Get("Content-Type"), want)
		}
	}
	if _, err := b.Repo.Add(ctx, []string{testpkgs.Dir("xdp-root")}, repo.AddOptions{Now: now}); err != nil {
		t.Fatal(err)
	}
	b.Rebuild(t, now.Add(time.Minute))
	second := publishTo(t, srv, b.Out, "s3://ebpf/repo")
	if second.Unchanged == 0 || second.Uploaded >= first.Uploaded {
		t.Errorf("second publish: %d uploaded, %d unchanged (first: %d uploaded): want only what changed", second.Uploaded, second.Unchanged, first.Uploaded)
	}
	c := newClient(t, url, b.Root, now.Add(time.Minute))
	if _, _, err := c.Get(ctx, "xdp-root", "", "jammy"); err != nil {
		t.Errorf("get the added package through the S3 server: %v", err)
	}
	if _, err := c.Check(ctx); err != nil {
		t.Errorf("check after the second publish: %v", err)
	}
}

// TestPublishS3Credentials: a private bucket takes a publish with the
// right credentials and refuses anonymous readers; without credentials,
// or with a wrong secret, publish fails saying what to do.
func TestPublishS3Credentials(t *testing.T) {
	srv := s3test.Start(t)
	srv.Env(t)
	srv.Bucket(t, "private", false)
	b := e2e.Build(t, time.Time{}, "tc-stats")
	publishTo(t, srv, b.Out, "s3://private/r")
	if res, err := http.Get(srv.URL("private", "r") + "/metadata/timestamp.json"); err != nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("anonymous read of a private bucket: %v %v, want 403", res.StatusCode, err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no credentials", map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}, "no AWS credentials found"},
		{"wrong secret", map[string]string{"AWS_SECRET_ACCESS_KEY": "wrong"}, "may not write here"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			st, err := s3store.New(context.Background(), "s3://private/r2", s3store.Options{Endpoint: srv.Endpoint})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err = publish.Publish(ctx, b.Out, st, publish.Options{})
			t.Log(err)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("publish: %v, want %q", err, tc.want)
			}
		})
	}
}

// TestPublishHelper is the process TestPublishS3Killed kills half-way.
func TestPublishHelper(t *testing.T) {
	dir := os.Getenv("PUBLISH_DIR")
	if dir == "" {
		t.Skip("run by TestPublishS3Killed")
	}
	at, _ := strconv.Atoi(os.Getenv("PUBLISH_KILL_AT"))
	st, err := s3store.New(context.Background(), os.Getenv("PUBLISH_DEST"), s3store.Options{Endpoint: os.Getenv("PUBLISH_ENDPOINT")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = publish.Publish(context.Background(), dir, st, publish.Options{Workers: 1, Progress: func(done, total int) {
		if done >= at {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
}

// TestPublishS3Killed: a publish killed (SIGKILL) half-way leaves what
// clients see consistent — the previous state checks completely and get
// works — and the next publish completes the new one.
func TestPublishS3Killed(t *testing.T) {
	srv := s3test.Start(t)
	srv.Env(t)
	srv.Bucket(t, "ebpf", true)
	now := time.Now().UTC().Truncate(time.Second)
	b := e2e.Build(t, now, "ratelimiting-1.0.0", "tc-stats")
	publishTo(t, srv, b.Out, "s3://ebpf/repo")
	ctx := context.Background()
	if _, err := b.Repo.Add(ctx, []string{testpkgs.Dir("ratelimiting-1.1.0"), testpkgs.Dir("xdp-root")}, repo.AddOptions{Now: now}); err != nil {
		t.Fatal(err)
	}
	b.Rebuild(t, now.Add(time.Minute))
	url := srv.URL("ebpf", "repo")
	for _, at := range []int{1, 5, 12} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPublishHelper$")
		cmd.Env = append(os.Environ(), "PUBLISH_DIR="+b.Out, "PUBLISH_DEST=s3://ebpf/repo", "PUBLISH_ENDPOINT="+srv.Endpoint, "PUBLISH_KILL_AT="+strconv.Itoa(at))
		if err := cmd.Run(); err == nil {
			t.Fatalf("kill at %d: the helper finished", at)
		}
		c := newClient(t, url, b.Root, now.Add(time.Minute))
		if _, err := c.Check(ctx); err != nil {
			t.Errorf("killed after %d uploads: the store does not check: %v", at, err)
		}
		if _, _, err := c.Get(ctx, "tc-stats", "", "jammy"); err != nil {
			t.Errorf("killed after %d uploads: get: %v", at, err)
		}
	}
	publishTo(t, srv, b.Out, "s3://ebpf/repo")
	c := newClient(t, url, b.Root, now.Add(time.Minute))
	if rel, _, err := c.Get(ctx, "ratelimiting", "", "jammy"); err != nil || rel.Version != "1.1.0" {
		t.Errorf("after the completing publish: %v %v, want ratelimiting 1.1.0", rel.Version, err)
	}
}
