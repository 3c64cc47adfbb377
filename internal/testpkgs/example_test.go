package testpkgs_test

import (
	"fmt"
	"path/filepath"

	"github.com/ebpfrepo/ebpfrepo/internal/testpkgs"
)

// Example lists the ratelimiting versions of the corpus.
func Example() {
	for _, dir := range testpkgs.Good() {
		if name := filepath.Base(dir); len(name) > 12 && name[:12] == "ratelimiting" {
			fmt.Println(name)
		}
	}
	// Output:
	// ratelimiting-1.0.0
	// ratelimiting-1.1.0
	// ratelimiting-2.0.0-rc.1
}

// ExampleBad shows how a test walks the bad packages.
func ExampleBad() {
	for _, c := range testpkgs.Bad() {
		if c.Name == "name-dot" {
			fmt.Println(c.Name, c.Expect)
		}
	}
	// Output:
	// name-dot [manifest.name]
}
