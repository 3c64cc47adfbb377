package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ebpfrepo/ebpfrepo/client"
	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/google/go-cmp/cmp"
)

func newClient(t *testing.T, repoURL string, root []byte, mod ...func(*client.Options)) *client.Client {
	t.Helper()
	o := client.Options{RepoURL: repoURL, TrustedRoot: root, CacheDir: t.TempDir(), Retries: -1}
	for _, m := range mod {
		m(&o)
	}
	c, err := client.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// files lists the regular files under dir (slash-separated, sorted) with
// their sha256.
func files(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = sha(b)
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}

// TestFetchEveryPackage resolves and fetches every artifact of every
// version of every package of the real build, over HTTP under a
// sub-path and from a file:// URL, and compares it with the index and
// with the plain l3afd tree of the same build.
func TestFetchEveryPackage(t *testing.T) {
	b := Build(t, time.Time{})
	srv := Serve(t, b.Out, "/repo/")
	ctx := context.Background()
	for _, tc := range []struct{ name, url string }{
		{"http", srv.URL},
		{"file", "file://" + b.Out},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, tc.url, b.Root)
			pkgs, err := c.Search(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range pkgs {
				names = append(names, p.Name)
			}
			want := []string{"connection-limit", "process-monitor", "ratelimiting", "tc-stats", "windows-sample", "xdp-root"}
			if diff := cmp.Diff(want, names); diff != "" {
				t.Fatalf("packages (-want +got):\n%s", diff)
			}
			fetched := 0
			for _, name := range names {
				p, err := c.Info(ctx, name)
				if err != nil {
					t.Fatal(err)
				}
				for _, v := range p.Versions {
					for _, a := range v.Artifacts {
						rel, err := c.Resolve(ctx, name, v.Version, a.Platform)
						if err != nil {
							t.Fatalf("resolve %s@%s %s: %v", name, v.Version, a.Platform, err)
						}
						dir := t.TempDir()
						path, err := c.Fetch(ctx, rel, dir)
						if err != nil {
							t.Fatalf("fetch %s: %v", a.Path, err)
						}
						got, _ := os.ReadFile(path)
						if sha(got) != a.SHA256 || int64(len(got)) != a.Length {
							t.Errorf("%s: fetched %d bytes sha256 %s, index says %d bytes %s", a.Path, len(got), sha(got), a.Length, a.SHA256)
						}
						plain, err := os.ReadFile(filepath.Join(b.Out, "l3afd", filepath.FromSlash(a.Path)))
						if err != nil || !bytes.Equal(plain, got) {
							t.Errorf("%s: differs from the build's plain l3afd tree (%v)", a.Path, err)
						}
						fetched++
					}
				}
			}
			versioned := 0
			for p := range files(t, filepath.Join(b.Out, "l3afd")) {
				if !strings.Contains(p, "/latest/") {
					versioned++
				}
			}
			if fetched != versioned || fetched != 20 {
				t.Errorf("fetched %d artifacts, want 20 (one per version and platform, as in the l3afd tree: %d)", fetched, versioned)
			}

			for _, r := range []struct{ constraint, platform, want string }{
				{"latest", "jammy", "1.1.0"}, // 2.0.0-rc.1 is a pre-release
				{"^1.0", "noble", "1.1.0"},
				{"~1.0", "focal", "1.0.0"},
				{">=1.0 <2", "jammy", "1.1.0"},
				{"^2.0.0-rc.1", "jammy", "2.0.0-rc.1"},
				{"2.0.0-rc.1", "noble", "2.0.0-rc.1"},
			} {
				rel, err := c.Resolve(ctx, "ratelimiting", r.constraint, r.platform)
				if err != nil || rel.Version != r.want {
					t.Errorf("Resolve(ratelimiting, %q, %s) = %q, %v; want %s", r.constraint, r.platform, rel.Version, err, r.want)
				}
			}
			_, err = c.Resolve(ctx, "ratelimiting", "^2", "jammy")
			var nm *index.NoMatchError
			if !errors.As(err, &nm) {
				t.Errorf("^2 (pre-release not named): got %v, want *index.NoMatchError", err)
			}
			_, err = c.Resolve(ctx, "ratelimiting", "latest", "bookworm")
			var pe *index.PlatformError
			if !errors.As(err, &pe) || !cmp.Equal(pe.Supported, []string{"focal", "jammy", "noble"}) {
				t.Errorf("bookworm: got %v, want *index.PlatformError listing focal, jammy, noble", err)
			}
			if _, err := c.Resolve(ctx, "windows-sample", "latest", "Windows"); err != nil {
				t.Errorf("windows-sample on Windows: %v", err)
			}
			// Every request stayed under the sub-path (explicit metadata
			// and targets URLs; nothing guessed from the host root).
			reqs, _ := srv.Counter.Reset()
			for _, r := range reqs {
				if _, p, _ := strings.Cut(r, " /"); !strings.HasPrefix(p, "repo/metadata/") && !strings.HasPrefix(p, "repo/targets/") {
					t.Errorf("request outside /repo/metadata and /repo/targets: %s", r)
				}
			}
		})
	}
}

// TestMirrorEqualsBuild mirrors everything and compares the tree with
// the build's plain l3afd tree, then extracts every latest artifact the
// way l3afd does.
func TestMirrorEqualsBuild(t *testing.T) {
	b := Build(t, time.Time{})
	srv := Serve(t, b.Out, "/repo/")
	ctx := context.Background()
	c := newClient(t, srv.URL, b.Root)
	dir := t.TempDir()
	rep, err := c.Mirror(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := files(t, filepath.Join(b.Out, "l3afd"))
	if diff := cmp.Diff(want, files(t, dir)); diff != "" {
		t.Errorf("mirror differs from the build's l3afd tree (-build +mirror):\n%s", diff)
	}
	if w, u := rep.Counts(); w != len(want) || u != 0 {
		t.Errorf("first mirror: %d written, %d unchanged; want %d, 0", w, u, len(want))
	}
	rep, err = c.Mirror(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if w, u := rep.Counts(); w != 0 || u != len(want) {
		t.Errorf("second mirror: %d written, %d unchanged; want 0, %d", w, u, len(want))
	}

	// l3afd: url.JoinPath(file://dir, name, "latest", platform, artifact),
	// then extraction into {bpf-dir}/{name}/{version}/.
	for _, tc := range []struct{ name, platform, artifact, cmdStart string }{
		{"ratelimiting", "jammy", "l3af_ratelimiting.tar.gz", "ratelimiting"},
		{"xdp-root", "noble", "l3af_xdp_root.tar.gz", ""},
		{"connection-limit", "jammy", "l3af_connection_limit.tar.gz", ""},
		{"tc-stats", "noble", "l3af_tc_stats.tar.gz", ""},
		{"process-monitor", "focal", "l3af_process_monitor.tar.gz", ""},
		{"windows-sample", "Windows", "windows_sample.zip", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, _ := url.JoinPath("file://"+dir, tc.name, "latest", tc.platform, tc.artifact)
			pu, _ := url.Parse(u)
			data, err := os.ReadFile(pu.Path)
			if err != nil {
				t.Fatalf("l3afd download %s: %v", u, err)
			}
			bpf := t.TempDir()
			top, err := l3afdExtract(bpf, tc.name, "latest", tc.artifact, data)
			if err != nil {
				t.Fatalf("l3afd extraction: %v", err)
			}
			p, err := c.Info(ctx, tc.name)
			if err != nil {
				t.Fatal(err)
			}
			m := p.Latest().Description.Manifest
			for _, pr := range m.Programs {
				if _, err := os.Stat(filepath.Join(top, filepath.FromSlash(pr.Object))); err != nil {
					t.Errorf("object of program %s: %v", pr.Name, err)
				}
			}
			cmdStart := ""
			if m.L3afd != nil {
				cmdStart = m.L3afd.CmdStart
			}
			if cmdStart != tc.cmdStart {
				t.Errorf("cmd_start %q, want %q", cmdStart, tc.cmdStart)
			}
			if cmdStart != "" {
				st, err := os.Stat(filepath.Join(top, cmdStart))
				if err != nil || st.Mode().Perm()&0o111 == 0 {
					t.Errorf("cmd_start %s: not an executable file (%v)", cmdStart, err)
				}
			}
		})
	}
}

// TestProxyAnswersL3afd: an unmodified l3afd pointed at the proxy asks
// for /<name>/latest/<platform>/<artifact> and gets the verified bytes.
func TestProxyAnswersL3afd(t *testing.T) {
	b := Build(t, time.Time{})
	srv := Serve(t, b.Out, "/repo/")
	c := newClient(t, srv.URL, b.Root, func(o *client.Options) { o.MaxAge = -1 })
	px := httptest.NewServer(client.NewProxy(c, client.ProxyOptions{}))
	defer px.Close()
	get := func(parts ...string) (int, []byte) {
		u, err := url.JoinPath(px.URL, parts...)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, body
	}
	p, err := c.Info(context.Background(), "ratelimiting")
	if err != nil {
		t.Fatal(err)
	}
	want := p.Lookup("1.1.0").Artifact("jammy")
	status, body := get("ratelimiting", "latest", "jammy", "l3af_ratelimiting.tar.gz")
	if status != 200 || sha(body) != want.SHA256 {
		t.Errorf("latest: %d, sha256 %s; want 200, %s", status, sha(body), want.SHA256)
	}
	status, body = get("ratelimiting", "2.0.0-rc.1", "noble", "l3af_ratelimiting.tar.gz")
	if status != 200 || sha(body) != p.Lookup("2.0.0-rc.1").Artifact("noble").SHA256 {
		t.Errorf("exact pre-release: %d", status)
	}
	if status, _ := get("nosuch", "latest", "jammy", "x.tar.gz"); status != 404 {
		t.Errorf("unknown package: %d, want 404", status)
	}
	if status, body := get("ratelimiting", "latest", "bookworm", "l3af_ratelimiting.tar.gz"); status != 404 || !strings.Contains(string(body), "supported: focal, jammy, noble") {
		t.Errorf("unknown platform: %d %q", status, body)
	}
	// Tampered on the host: 502 with the reason, never the bytes.
	tamper(t, filepath.Join(b.Out, "targets", "ratelimiting", "1.0.0", "jammy", want1(p, "1.0.0", "jammy")))
	status, body = get("ratelimiting", "1.0.0", "jammy", "l3af_ratelimiting.tar.gz")
	if status != http.StatusBadGateway || !strings.Contains(string(body), "hash") {
		t.Errorf("tampered: %d %q, want 502 naming the hash check", status, body)
	}
}

// want1 is the hash-prefixed file name of an artifact in targets/.
func want1(p *index.Package, version, platform string) string {
	a := p.Lookup(version).Artifact(platform)
	return a.SHA256 + "." + filepath.Base(a.Path)
}

// tamper flips one byte of a published file, writing a new file so that
// hard links to the same bytes (other platforms, packages/) keep theirs.
func tamper(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x01
	replace(t, path, data)
}

func replace(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// sortedKeys is for messages.
func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
