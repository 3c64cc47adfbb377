//go:build !linux

package kernelsig

import "context"

// Load reports that signed loads are a Linux matter.
func Load(ctx context.Context, l Loader) LoadResult {
	return LoadResult{Status: LoadNotRun, Reason: "not Linux"}
}
