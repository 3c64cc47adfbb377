package client_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/ebpfrepo/ebpfrepo/client"
	"github.com/ebpfrepo/ebpfrepo/client/clienttest"
)

// exampleTB lets the examples build a throwaway repository.
type exampleTB struct{ dirs []string }

func (t *exampleTB) Helper()                   {}
func (t *exampleTB) Fatal(args ...any)         { log.Fatal(args...) }
func (t *exampleTB) Fatalf(f string, a ...any) { log.Fatalf(f, a...) }
func (t *exampleTB) Cleanup(f func())          {}
func (t *exampleTB) TempDir() string {
	d, err := os.MkdirTemp("", "example-")
	if err != nil {
		log.Fatal(err)
	}
	t.dirs = append(t.dirs, d)
	return d
}
func (t *exampleTB) done() {
	for _, d := range t.dirs {
		os.RemoveAll(d)
	}
}

// exampleRepo serves a demo repository on 127.0.0.1 and returns its URL
// and pinned root.
func exampleRepo() (string, []byte, *exampleTB) {
	tb := &exampleTB{}
	r := clienttest.Demo(tb)
	srv := r.Serve(nil) // closed when the test binary exits
	return srv.URL, r.RootBytes(), tb
}

func Example() {
	repoURL, root, tb := exampleRepo()
	defer tb.done()
	ctx := context.Background()

	// root is the repository's root.json, pinned out of band.
	c, err := client.New(client.Options{RepoURL: repoURL, TrustedRoot: root, CacheDir: tb.TempDir()})
	if err != nil {
		log.Fatal(err)
	}
	rel, err := c.Resolve(ctx, "ratelimiting", "^1.0", "jammy")
	if err != nil {
		log.Fatal(err)
	}
	path, err := c.Fetch(ctx, rel, tb.TempDir())
	if err != nil {
		log.Fatal(err) // a hash, length, signature, expiry or rollback problem
	}
	fmt.Println(rel.Name, rel.Version, rel.Platform, filepath.Base(path))
	// Output: ratelimiting 1.1.0 jammy l3af_ratelimiting.tar.gz
}

func ExampleNew() {
	root, err := os.ReadFile("/etc/ebpfrepo/root.json") // pinned, shipped with the host
	if err != nil {
		log.Fatal(err)
	}
	c, err := client.New(client.Options{
		RepoURL:     "https://ebpf.example.org/repo",
		TrustedRoot: root,
		CacheDir:    "/var/cache/ebpfrepo",
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = c
}

func ExampleClient_Resolve() {
	repoURL, root, tb := exampleRepo()
	defer tb.done()
	c, err := client.New(client.Options{RepoURL: repoURL, TrustedRoot: root, CacheDir: tb.TempDir()})
	if err != nil {
		log.Fatal(err)
	}
	for _, constraint := range []string{"latest", "~1.0", "2.0.0-rc.1"} {
		rel, err := c.Resolve(context.Background(), "ratelimiting", constraint, "noble")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s → %s (%s)\n", constraint, rel.Version, rel.TargetPath)
	}
	_, err = c.Resolve(context.Background(), "ratelimiting", "latest", "bookworm")
	fmt.Println(err)
	// Output:
	// latest → 1.1.0 (ratelimiting/1.1.0/noble/l3af_ratelimiting.tar.gz)
	// ~1.0 → 1.0.0 (ratelimiting/1.0.0/noble/l3af_ratelimiting.tar.gz)
	// 2.0.0-rc.1 → 2.0.0-rc.1 (ratelimiting/2.0.0-rc.1/noble/l3af_ratelimiting.tar.gz)
	// package ratelimiting: no stable version is built for platform "bookworm" (latest is 1.1.0; supported: jammy, noble)
}

func ExampleClient_Mirror() {
	repoURL, root, tb := exampleRepo()
	defer tb.done()
	c, err := client.New(client.Options{RepoURL: repoURL, TrustedRoot: root, CacheDir: tb.TempDir()})
	if err != nil {
		log.Fatal(err)
	}
	dir := tb.TempDir() // l3afd: [ebpf-repo] url: file://<dir>
	rep, err := c.Mirror(context.Background(), dir, "connlimit")
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range rep.Entries {
		fmt.Println(e.Action, e.Path)
	}
	// Output:
	// written connlimit/0.9.0/jammy/l3af_connlimit.tar.gz
	// written connlimit/latest/jammy/l3af_connlimit.tar.gz
}

func ExampleClient_Search() {
	repoURL, root, tb := exampleRepo()
	defer tb.done()
	c, err := client.New(client.Options{RepoURL: repoURL, TrustedRoot: root, CacheDir: tb.TempDir()})
	if err != nil {
		log.Fatal(err)
	}
	pkgs, err := c.Search(context.Background(), "rate")
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range pkgs {
		fmt.Println(p.Name, p.Latest)
	}
	// Output: ratelimiting 1.1.0
}
