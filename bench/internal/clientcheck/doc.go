// Package clientcheck measures what the client costs a consumer: the
// HTTP requests and bytes of a cold `get` of one package (empty cache)
// and of a warm check when nothing changed (same cache, metadata
// refreshed, the package resolved again), against a built repository
// served over HTTP on 127.0.0.1.
package clientcheck
