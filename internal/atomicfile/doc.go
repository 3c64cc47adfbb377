// Package atomicfile writes files so that readers see the old content or
// the new, never a part: a temporary file beside the target, synced, then
// renamed over it, and the directory synced.
package atomicfile
