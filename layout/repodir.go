package layout

import "path/filepath"

// Names in a repository directory.
const (
	ConfigFile  = "ebpfrepo.toml"
	KeysDir     = "keys"
	PackagesDir = "packages"
	RepoMetaDir = "metadata" // the TUF metadata of record (no secrets)
	CacheDir    = ".cache"
	PublicDir   = "public" // the default build output
	YankedFile  = "yanked.toml"
	LockFile    = ".lock"
	AddedFile   = "added" // packages/<name>/<version>/added: when the version was added (RFC 3339)
	GitIgnore   = ".gitignore"
	KeylessDir  = "keyless" // publishers.json and trusted_root.json, as the top-level targets role signs them
)

// Keyless files: in the repository directory under keyless/, published
// as targets of the top-level targets role.
const (
	KeylessPublishers = "publishers.json"
	KeylessTrustRoot  = "trusted_root.json"
	// BundleSuffix ends the name of a version's Sigstore bundle, beside
	// its artifact: packages/<name>/<version>/<artifact>.sigstore.json.
	BundleSuffix = ".sigstore.json"
)

// RepoDir is a repository directory on disk; its methods return the
// paths of what it holds.
type RepoDir string

func (d RepoDir) join(elem ...string) string {
	return filepath.Join(append([]string{string(d)}, elem...)...)
}

// Config is ebpfrepo.toml.
func (d RepoDir) Config() string { return d.join(ConfigFile) }

// Keys is the default keys directory (ebpfrepo.toml may name another).
func (d RepoDir) Keys() string { return d.join(KeysDir) }

// Packages is packages/, the submitted artifacts.
func (d RepoDir) Packages() string { return d.join(PackagesDir) }

// Version is packages/<name>/<version>/.
func (d RepoDir) Version(name, version string) string { return d.join(PackagesDir, name, version) }

// Artifact is packages/<name>/<version>/<artifact>.
func (d RepoDir) Artifact(name, version, artifact string) string {
	return d.join(PackagesDir, name, version, artifact)
}

// Added is packages/<name>/<version>/added.
func (d RepoDir) Added(name, version string) string {
	return d.join(PackagesDir, name, version, AddedFile)
}

// Metadata is metadata/, the TUF metadata of record.
func (d RepoDir) Metadata() string { return d.join(RepoMetaDir) }

// Cache is .cache/ (always safe to delete).
func (d RepoDir) Cache(elem ...string) string { return d.join(append([]string{CacheDir}, elem...)...) }

// Public is the default output directory.
func (d RepoDir) Public() string { return d.join(PublicDir) }

// Yanked is yanked.toml.
func (d RepoDir) Yanked() string { return d.join(YankedFile) }

// Lock is the lock file that serialises builds.
func (d RepoDir) Lock() string { return d.join(LockFile) }

// Keyless is keyless/<file> (KeylessPublishers, KeylessTrustRoot).
func (d RepoDir) Keyless(file string) string { return d.join(KeylessDir, file) }
