package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ebpfrepo/ebpfrepo/client"
	"github.com/ebpfrepo/ebpfrepo/client/clienttest"
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
		Signing []client.RoleInfo
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &info) != nil || info.Package.Name != "connlimit" || len(info.Signing) < 5 {
		t.Errorf("info --json: exit %d\n%s", code, stdout)
	}
}

func TestProxyCommand(t *testing.T) {
	r, root := consumerRepo(t)
	srv := r.Serve(nil)
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
		done <- run(ctx, []string{"proxy", "--repo", srv.URL, "--root", root, "--cache", t.TempDir(), "--listen", addr}, &out, &errb)
	}()
	// l3afd's request: url.JoinPath(repo, name, version, platform, artifact).
	u, _ := url.JoinPath("http://"+addr, "ratelimiting", "latest", "jammy", "l3af_ratelimiting.tar.gz")
	var res *http.Response
	for i := 0; i < 100; i++ {
		if res, err = http.Get(u); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("proxy did not come up: %v\n%s", err, errb.String())
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Equal(body, r.Files["ratelimiting/1.1.0/jammy/l3af_ratelimiting.tar.gz"]) {
		t.Errorf("proxy: %d, %d bytes", res.StatusCode, len(body))
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("proxy exit: %v", err)
	}
}

func TestOSReleaseCodename(t *testing.T) {
	for in, want := range map[string]string{
		"NAME=\"Ubuntu\"\nVERSION_CODENAME=noble\nUBUNTU_CODENAME=noble\n": "noble",
		"ID=linuxmint\nVERSION_CODENAME=\nUBUNTU_CODENAME=jammy\n":         "jammy",
		"ID=debian\nVERSION_CODENAME=\"bookworm\"\n":                       "bookworm",
		"ID=arch\n": "",
	} {
		if got := osReleaseCodename(strings.NewReader(in)); got != want {
			t.Errorf("osReleaseCodename(%q) = %q, want %q", in, got, want)
		}
	}
}
