// Package author is the package author's side of publisher signing: a
// key pair of their own (Keygen), and the next version of their
// pub-<publisher>.json role vouching for the artifacts they release
// (Sign, and AddSignature for a co-signer of a threshold role). It runs
// on the author's machine, never in the repository's CI: the repository
// verifies the role file and never re-signs it (repo.Repo.Add with
// AddOptions.Signed).
package author
