package index_test

import (
	"fmt"
	"time"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

// Resolution of version constraints: ranges skip pre-releases and yanked
// versions, an exact version always resolves, and a platform the package
// is not built for is an error naming the ones it is.
func ExamplePackage_Resolve() {
	version := func(v string, platforms ...string) index.VersionInput {
		return index.VersionInput{
			Description: pkgfmt.Description{Manifest: pkgfmt.Manifest{
				Name: "ratelimiting", Version: v, Artifact: "l3af_ratelimiting.tar.gz", Platforms: platforms}},
			Length: 1024, SHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			Added: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		}
	}
	yanked := version("1.2.0", "jammy", "noble")
	yanked.Yanked = &index.Yank{Reason: "drops IPv6 SYNs", At: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)}
	p := index.BuildPackage("ratelimiting", []index.VersionInput{
		version("1.0.0", "focal", "jammy"),
		version("1.1.0", "jammy", "noble"),
		yanked,
		version("2.0.0-rc.1", "noble"),
	})

	for _, c := range []string{"latest", "^1.0", "1.2.0", "^2.0.0-rc.1", "~1.0"} {
		v, a, err := p.Resolve(c, "jammy")
		if err != nil {
			fmt.Printf("%-12s error: %v\n", c, err)
			continue
		}
		fmt.Printf("%-12s %s %s\n", c, v.Version, a.Path)
	}
	v, _, _ := p.Resolve("^2.0.0-rc.1", "noble")
	fmt.Println(v.Version)
	// Output:
	// latest       1.1.0 ratelimiting/1.1.0/jammy/l3af_ratelimiting.tar.gz
	// ^1.0         1.1.0 ratelimiting/1.1.0/jammy/l3af_ratelimiting.tar.gz
	// 1.2.0        1.2.0 ratelimiting/1.2.0/jammy/l3af_ratelimiting.tar.gz
	// ^2.0.0-rc.1  error: package ratelimiting: no version matching "^2.0.0-rc.1" is built for platform "jammy" (newest match 2.0.0-rc.1; supported: noble)
	// ~1.0         1.0.0 ratelimiting/1.0.0/jammy/l3af_ratelimiting.tar.gz
	// 2.0.0-rc.1
}
