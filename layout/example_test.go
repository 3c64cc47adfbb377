package layout_test

import (
	"fmt"

	"github.com/ebpfrepo/ebpfrepo/layout"
)

// An artifact is published three times: as a TUF target at its
// consistent name, in the plain l3afd tree, and — for the newest stable
// version — under latest/.
func Example() {
	tp := layout.ArtifactTarget("ratelimiting", "1.1.0", "jammy", "l3af_ratelimiting.tar.gz")
	fmt.Println(layout.Target(tp, "9f86d0"))
	fmt.Println(layout.L3afd(tp))
	fmt.Println(layout.L3afdLatest("ratelimiting", "jammy", "l3af_ratelimiting.tar.gz"))
	fmt.Println(layout.CacheControl(layout.Target(tp, "9f86d0")))
	fmt.Println(layout.CacheControl(layout.Timestamp))
	// Output:
	// targets/ratelimiting/1.1.0/jammy/9f86d0.l3af_ratelimiting.tar.gz
	// l3afd/ratelimiting/1.1.0/jammy/l3af_ratelimiting.tar.gz
	// l3afd/ratelimiting/latest/jammy/l3af_ratelimiting.tar.gz
	// public, max-age=31536000, immutable
	// no-cache
}
