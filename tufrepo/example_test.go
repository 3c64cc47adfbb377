package tufrepo_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/tufrepo"
)

// A repository's life: keys, init, a build with two targets, saving the
// metadata of record and the files to publish.
func Example() {
	ctx := context.Background()
	tmp, _ := os.MkdirTemp("", "tufrepo-example")
	defer os.RemoveAll(tmp)
	kr, err := tufrepo.CreateKeys(filepath.Join(tmp, "keys"), 1)
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) // SOURCE_DATE_EPOCH in a real build
	// The keys, configuration and clock are given once.
	repo, err := tufrepo.Init(tufrepo.Options{Keys: kr, Now: now})
	if err != nil {
		panic(err)
	}
	var targets []tufrepo.Target
	for _, p := range []string{"index/all.json", "ratelimiting/1.0.0/jammy/l3af_ratelimiting.tar.gz"} {
		data := []byte("contents of " + p)
		sum := sha256.Sum256(data)
		targets = append(targets, tufrepo.Target{Path: p, Length: int64(len(data)), SHA256: hex.EncodeToString(sum[:])})
	}
	res, err := repo.Update(ctx, targets)
	if err != nil {
		panic(err)
	}
	fmt.Println("re-signed:", res.Changed)
	if err := repo.Save(ctx, filepath.Join(tmp, "metadata")); err != nil {
		panic(err)
	}
	files, err := repo.Files()
	if err != nil {
		panic(err)
	}
	fmt.Println(len(files["metadata/1.root.json"]) > 0, len(files["metadata/timestamp.json"]) > 0)
	fmt.Println(layout.ConsistentTargetName("index/all.json", "ab12"))

	// A rebuild with the same targets changes nothing.
	res, _ = repo.Update(ctx, targets)
	fmt.Println("re-signed:", res.Changed)
	// Output:
	// re-signed: [bins-0 bins-1 snapshot timestamp]
	// true true
	// index/ab12.all.json
	// re-signed: []
}

// The daily cron job: re-sign the timestamp only, with the timestamp key
// from the environment (EBPFREPO_TIMESTAMP_KEY) or keys/timestamp.pem.
func ExampleRepo_Timestamp() {
	ctx := context.Background()
	tmp, _ := os.MkdirTemp("", "tufrepo-example")
	defer os.RemoveAll(tmp)
	kr, _ := tufrepo.CreateKeys(filepath.Join(tmp, "keys"), 1)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	repo, _ := tufrepo.Init(tufrepo.Options{Keys: kr, Now: now})
	repo.Save(ctx, filepath.Join(tmp, "metadata"))

	keys, err := tufrepo.LoadKeyring(filepath.Join(tmp, "keys"))
	if err != nil {
		panic(err)
	}
	repo, err = tufrepo.Load(ctx, filepath.Join(tmp, "metadata"), tufrepo.Options{Keys: keys, Now: now.Add(20 * time.Hour)})
	if err != nil {
		panic(err)
	}
	if err := repo.Timestamp(); err != nil {
		panic(err)
	}
	if err := repo.Save(ctx, filepath.Join(tmp, "metadata")); err != nil {
		panic(err)
	}
	for _, ri := range repo.Info().Roles {
		if ri.Name == tufrepo.RoleTimestamp {
			fmt.Println(ri.Version, ri.Expires.Format(time.RFC3339))
		}
	}
	// Output: 2 2026-11-27T08:00:00Z
}
