package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ebpfrepo/ebpfrepo/client/clienttest"
	"github.com/ebpfrepo/ebpfrepo/e2e"
	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/google/go-cmp/cmp"
)

// consumerRepo publishes the demo repository and writes its root.json.
func consumerRepo(t *testing.T) (*clienttest.Repo, string) {
	r := clienttest.Demo(t)
	root := filepath.Join(t.TempDir(), "root.json")
	if err := os.WriteFile(root, r.RootBytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return r, root
}

func runCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	if err != nil {
		errb.WriteString(err.Error())
	}
	return out.String(), errb.String(), exitCode(err)
}

func TestGetEndToEnd(t *testing.T) {
	r, root := consumerRepo(t)
	srv := r.Serve(nil)
	for _, repoURL := range []string{srv.URL, "file://" + r.Dir} {
		t.Run(repoURL[:4], func(t *testing.T) {
			out := t.TempDir()
			stdout, stderr, code := runCmd(t, "get", "--repo", repoURL, "--root", root, "--cache", t.TempDir(),
				"--platform", "noble", "-o", out, "ratelimiting@^1.0")
			if code != 0 {
				t.Fatalf("get: exit %d: %s", code, stderr)
			}
			want := filepath.Join(out, "l3af_ratelimiting.tar.gz")
			if strings.TrimSpace(stdout) != want {
				t.Errorf("stdout %q, want %q", stdout, want)
			}
			got, _ := os.ReadFile(want)
			if !bytes.Equal(got, r.Files["ratelimiting/1.1.0/noble/l3af_ratelimiting.tar.gz"]) {
				t.Error("get wrote other bytes than the 1.1.0 noble artifact")
			}
		})
	}
	// --json
	stdout, stderr, code := runCmd(t, "--json", "get", "--repo", srv.URL, "--root", root, "--cache", t.TempDir(),
		"--platform", "jammy", "-o", t.TempDir(), "connlimit@1.0.0")
	var res struct {
		Version string
		Yanked  bool
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil || res.Version != "1.0.0" || !res.Yanked {
		t.Errorf("get --json: exit %d %q %s", code, stdout, stderr)
	}
}

func TestConsumerExitCodes(t *testing.T) {
	r, root := consumerRepo(t)
	srv := r.Serve(nil)
	sum := sha256.Sum256(r.RootBytes())
	good := hex.EncodeToString(sum[:])
	tampered := filepath.Join(t.TempDir(), "tampered")
	r.Write(r.TargetFile("ratelimiting/1.1.0/jammy/l3af_ratelimiting.tar.gz"), []byte("evil"))
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"root sha256 ok", []string{"search", "--repo", srv.URL, "--root", root, "--root-sha256", good}, 0, ""},
		{"root sha256 mismatch", []string{"search", "--repo", srv.URL, "--root", root, "--root-sha256", strings.Repeat("0", 64)}, 1, "not the root you pinned"},
		{"no root", []string{"search", "--repo", srv.URL}, 2, "no trust on first use"},
		{"no repo", []string{"search", "--root", root}, 2, "--repo is required"},
		{"bad scheme", []string{"search", "--repo", "ftp://x", "--root", root}, 2, "scheme"},
		{"tampered artifact", []string{"get", "--repo", srv.URL, "--root", root, "--platform", "jammy", "-o", tampered, "ratelimiting"}, 1, "length"},
		{"unknown package", []string{"get", "--repo", srv.URL, "--root", root, "--platform", "jammy", "nosuch"}, 1, "not in the repository"},
		{"unknown platform", []string{"get", "--repo", srv.URL, "--root", root, "--platform", "bookworm", "ratelimiting"}, 1, "supported: jammy, noble"},
		{"mirror without --to", []string{"mirror", "--repo", srv.URL, "--root", root}, 2, "--to"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(tc.args, "--cache", t.TempDir())
			_, stderr, code := runCmd(t, args...)
			if code != tc.code || !strings.Contains(stderr, tc.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d with %q", code, stderr, tc.code, tc.msg)
			}
		})
	}
	if _, err := os.Stat(tampered); err == nil {
		if ents, _ := os.ReadDir(tampered); len(ents) != 0 {
			t.Errorf("get wrote %v after a verification failure", ents)
		}
	}
}

func TestMirrorSearchInfo(t *testing.T) {
	r, root := consumerRepo(t)
	to := t.TempDir()
	repoURL := "file://" + r.Dir
	cache := t.TempDir()
	stdout, stderr, code := runCmd(t, "mirror", "--repo", repoURL, "--root", root, "--cache", cache, "--to", to)
	if code != 0 || !strings.Contains(stdout, "10 written, 0 unchanged") {
		t.Fatalf("mirror: exit %d\n%s%s", code, stdout, stderr)
	}
	stdout, _, code = runCmd(t, "mirror", "--repo", repoURL, "--root", root, "--cache", cache, "--to", to)
	if code != 0 || !strings.Contains(stdout, "0 written, 10 unchanged") {
		t.Errorf("second mirror: exit %d\n%s", code, stdout)
	}
	if _, err := os.Stat(filepath.Join(to, "ratelimiting/latest/noble/l3af_ratelimiting.tar.gz")); err != nil {
		t.Error(err)
	}
	stdout, _, code = runCmd(t, "search", "--repo", repoURL, "--root", root, "--cache", cache, "rate")
	if code != 0 || !strings.Contains(stdout, "ratelimiting") || strings.Contains(stdout, "connlimit") {
		t.Errorf("search: exit %d\n%s", code, stdout)
	}
	stdout, _, code = runCmd(t, "info", "--repo", repoURL, "--root", root, "--cache", cache, "connlimit")
	for _, want := range []string{"latest:      0.9.0", "yanked: broken", "bins-", "timestamp"} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("info: exit %d, missing %q in\n%s", code, want, stdout)
		}
	}
	stdout, _, code = runCmd(t, "--json", "info", "--repo", repoURL, "--root", root, "--cache", cache, "connlimit")
	var info struct {
		Package struct{ Name string }
		Signing []index.RoleInfo
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &info) != nil || info.Package.Name != "connlimit" || len(info.Signing) < 5 {
		t.Errorf("info --json: exit %d\n%s", code, stdout)
	}
}

func TestProxyCommand(t *testing.T) {
	r, root := consumerRepo(t)
	srv := r.Serve(nil)
	for _, jsonOut := range []bool{false, true} {
		t.Run(fmt.Sprintf("json=%v", jsonOut), func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := l.Addr().String()
			l.Close()
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			var out, errb bytes.Buffer
			args := []string{"proxy", "--repo", srv.URL, "--root", root, "--cache", t.TempDir(), "--listen", addr}
			if jsonOut {
				args = append([]string{"--json"}, args...)
			}
			go func() { done <- run(ctx, args, &out, &errb) }()
			// l3afd's request: url.JoinPath(repo, name, version, platform, artifact).
			get := func(name string) (*http.Response, []byte, error) {
				u, _ := url.JoinPath("http://"+addr, name, "latest", "jammy", "l3af_ratelimiting.tar.gz")
				res, err := http.Get(u)
				if err != nil {
					return nil, nil, err
				}
				defer res.Body.Close()
				body, _ := io.ReadAll(res.Body)
				return res, body, nil
			}
			var res *http.Response
			var body []byte
			for i := 0; i < 100; i++ {
				if res, body, err = get("ratelimiting"); err == nil {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if err != nil {
				cancel()
				<-done
				t.Fatalf("proxy did not come up: %v\n%s", err, errb.String())
			}
			if res.StatusCode != 200 || !bytes.Equal(body, r.Files["ratelimiting/1.1.0/jammy/l3af_ratelimiting.tar.gz"]) {
				t.Errorf("proxy: %d, %d bytes", res.StatusCode, len(body))
			}
			if res, _, err := get("nosuch"); err != nil || res.StatusCode != 404 {
				t.Errorf("unknown package: %v %v, want 404", res.StatusCode, err)
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("proxy exit: %v", err)
			}
			if !jsonOut {
				if !strings.Contains(errb.String(), "GET /ratelimiting/latest/jammy/l3af_ratelimiting.tar.gz: 200") {
					t.Errorf("log:\n%s", errb.String())
				}
				return
			}
			dec := json.NewDecoder(&out)
			var first struct{ Listen string }
			if err := dec.Decode(&first); err != nil || first.Listen != "http://"+addr {
				t.Errorf("first JSON line: %+v %v", first, err)
			}
			var statuses []int
			for dec.More() {
				var e struct {
					Path   string
					Status int
					Error  string
				}
				if err := dec.Decode(&e); err != nil {
					t.Fatal(err)
				}
				statuses = append(statuses, e.Status)
			}
			if fmt.Sprint(statuses) != "[200 404]" {
				t.Errorf("JSON log statuses %v, want [200 404]\n%s", statuses, out.String())
			}
		})
	}
}

// TestRealBuildCLI drives get, mirror, search and info through run()
// against the real build of the example packages, served by `ebpfrepo
// serve` and read as a file:// tree.
func TestRealBuildCLI(t *testing.T) {
	b := e2e.Build(t, time.Time{})
	sum := sha256.Sum256(b.Root)
	rootSum := hex.EncodeToString(sum[:])

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var serveOut, serveErr bytes.Buffer
	go func() { done <- run(ctx, []string{"serve", b.Out, "--addr", addr}, &serveOut, &serveErr) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	for i := 0; i < 100; i++ {
		if res, err := http.Get("http://" + addr + "/metadata/timestamp.json"); err == nil {
			res.Body.Close()
			break
		}
		time.Sleep(50 * time.Millisecond)
	}

	l3afdTree := filepath.Join(b.Out, "l3afd")
	for _, repoURL := range []string{"http://" + addr, "file://" + b.Out} {
		t.Run(repoURL[:4], func(t *testing.T) {
			common := []string{"--repo", repoURL, "--root", b.RootPath, "--root-sha256", rootSum, "--cache", t.TempDir()}
			out := t.TempDir()
			stdout, stderr, code := runCmd(t, append(append([]string{"--json", "get"}, common...), "--platform", "jammy", "-o", out, "ratelimiting@^1")...)
			var got struct {
				Version, Path, SHA256 string
			}
			if code != 0 || json.Unmarshal([]byte(stdout), &got) != nil {
				t.Fatalf("get: exit %d %s %s", code, stdout, stderr)
			}
			want, _ := os.ReadFile(filepath.Join(l3afdTree, "ratelimiting", "1.1.0", "jammy", "l3af_ratelimiting.tar.gz"))
			data, _ := os.ReadFile(got.Path)
			if got.Version != "1.1.0" || !bytes.Equal(data, want) || got.SHA256 != fmt.Sprintf("%x", sha256.Sum256(data)) {
				t.Errorf("get: %+v, %d bytes; want 1.1.0 with the build's bytes", got, len(data))
			}

			to := t.TempDir()
			stdout, stderr, code = runCmd(t, append(append([]string{"mirror"}, common...), "--to", to)...)
			if code != 0 || !strings.Contains(stdout, "34 written, 0 unchanged") {
				t.Fatalf("mirror: exit %d\n%s%s", code, stdout, stderr)
			}
			if diff := treeDiff(t, l3afdTree, to); diff != "" {
				t.Errorf("mirror differs from the build's l3afd tree:\n%s", diff)
			}
			stdout, _, code = runCmd(t, append(append([]string{"mirror"}, common...), "--to", to)...)
			if code != 0 || !strings.Contains(stdout, "0 written, 34 unchanged") {
				t.Errorf("second mirror: exit %d\n%s", code, stdout)
			}

			stdout, _, code = runCmd(t, append(append([]string{"search"}, common...), "tc")...)
			if code != 0 || !strings.Contains(stdout, "tc-stats") {
				t.Errorf("search tc: exit %d\n%s", code, stdout)
			}
			stdout, _, code = runCmd(t, append(append([]string{"info"}, common...), "ratelimiting")...)
			for _, w := range []string{"latest:      1.1.0", "2.0.0-rc.1", "pre-release", "xdp_ratelimiting", "bins-"} {
				if code != 0 || !strings.Contains(stdout, w) {
					t.Errorf("info: exit %d, missing %q in\n%s", code, w, stdout)
				}
			}
		})
	}
}

// treeDiff compares the regular files of two trees by content.
func treeDiff(t *testing.T, a, b string) string {
	t.Helper()
	read := func(dir string) map[string]string {
		m := map[string]string{}
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				data, _ := os.ReadFile(p)
				rel, _ := filepath.Rel(dir, p)
				m[filepath.ToSlash(rel)] = fmt.Sprintf("%x", sha256.Sum256(data))
			}
			return err
		})
		return m
	}
	return cmp.Diff(read(a), read(b))
}

// TestConsumerHints: a misspelled package gets a "did you mean" from the
// repository's own list.
func TestConsumerHints(t *testing.T) {
	r, root := consumerRepo(t)
	srv := r.Serve(nil)
	_, errOut, code := runCmd(t, "get", "--repo", srv.URL, "--root", root, "--cache", t.TempDir(), "--platform", "jammy", "-o", t.TempDir(), "ratelimting")
	if code != 1 || !strings.Contains(errOut, `did you mean "ratelimiting"?`) {
		t.Errorf("misspelled package: exit %d, %q", code, errOut)
	}
}

func TestConsumerRepoAndRootHints(t *testing.T) {
	r, root := consumerRepo(t)
	srv := r.Serve(nil)
	_, otherRoot := consumerRepo(t) // another repository's root
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"search", "--repo", "/srv/repo", "--root", otherRoot}, 2, "file:///srv/repo"},
		{[]string{"search", "--repo", "file://srv/repo", "--root", otherRoot}, 2, "file:///srv/repo"},
		{[]string{"search", "--repo", srv.URL, "--root", otherRoot}, 1, "the root of another repository"},
		{[]string{"search", "--repo", srv.URL + "/l3afd", "--root", root}, 1, "--repo is the repository's base URL"},
	} {
		_, errOut, code := runCmd(t, append(tc.args, "--cache", t.TempDir())...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, %q; want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
	// --json: the error as a JSON object on stdout, with the exit code.
	out, _, code := runCmd(t, "--json", "search", "--repo", "/srv/repo", "--root", otherRoot)
	var je struct {
		Error struct {
			Code    string `json:"code"`
			Exit    int    `json:"exit"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(out), &je); err != nil || code != 2 || je.Error.Code != "usage" || je.Error.Exit != 2 || je.Error.Message == "" {
		t.Errorf("--json error: exit %d, %q (%v)", code, out, err)
	}
}

// TestProxyUpstreamDown: a proxy started while the repository cannot be
// reached still listens, answers what it verified before from its cache,
// and 502 with the reason for the rest.
func TestProxyUpstreamDown(t *testing.T) {
	r, root := consumerRepo(t)
	srv := r.Serve(nil)
	cache := t.TempDir()
	startProxy := func() (string, func()) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		var out, errb bytes.Buffer
		go func() {
			done <- run(ctx, []string{"proxy", "--repo", srv.URL, "--root", root, "--cache", cache, "--listen", addr}, &out, &errb)
		}()
		for i := 0; i < 200; i++ {
			if c, err := net.Dial("tcp", addr); err == nil {
				c.Close()
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		return "http://" + addr, func() { cancel(); <-done }
	}
	get := func(base, platform string) (int, string) {
		res, err := http.Get(base + "/ratelimiting/latest/" + platform + "/l3af_ratelimiting.tar.gz")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	base, stop := startProxy()
	if code, _ := get(base, "jammy"); code != 200 {
		t.Fatalf("with the repository up: %d", code)
	}
	stop()
	srv.Close() // the repository goes away
	base, stop = startProxy()
	defer stop()
	if code, body := get(base, "jammy"); code != 200 || body != string(r.Files["ratelimiting/1.1.0/jammy/l3af_ratelimiting.tar.gz"]) {
		t.Errorf("verified before, repository down: %d, want 200 with the bytes", code)
	}
	if code, body := get(base, "noble"); code != http.StatusBadGateway || !strings.Contains(body, "fetch") {
		t.Errorf("never fetched, repository down: %d %q, want 502 with the reason", code, body)
	}
}
