// Package clienttest builds small TUF repositories laid out as ebpfrepo
// publishes them (consistent snapshots, succinct hashed bins,
// hash-prefixed targets, index files as targets), with every key at hand
// so that tests can sign what an attacker holding a key would. For tests
// only.
package clienttest
