package repo_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/ebpfrepo/ebpfrepo/repo"
)

// The maintainer's job: create a repository, add a package (a source
// directory is packed first), build the signed static output.
func Example() {
	tmp, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	dir := filepath.Join(tmp, "myrepo")
	if err := repo.Init(ctx, dir, repo.InitOptions{Name: "acme-ebpf", Now: now}); err != nil {
		log.Fatal(err)
	}
	r, err := repo.Open(ctx, dir)
	if err != nil {
		log.Fatal(err)
	}
	added, err := r.Add(ctx, []string{"../testdata/packages/xdp-root"}, repo.AddOptions{Now: now})
	if err != nil {
		log.Fatal(err) // an *InvalidError lists every problem
	}
	fmt.Println("added", added[0].Name, added[0].Version)
	res, err := r.Build(ctx, repo.BuildOptions{Now: now})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("packages:", res.Packages, "versions:", res.Versions)
	_, err = os.Stat(filepath.Join(dir, "public", "metadata", "1.root.json"))
	fmt.Println("root published:", err == nil)
	// Output:
	// added xdp-root 1.0.0
	// packages: 1 versions: 1
	// root published: true
}
