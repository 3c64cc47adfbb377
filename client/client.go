package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ebpfrepo/ebpfrepo/authenticode"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/internal/atomicfile"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/theupdateframework/go-tuf/v2/metadata"
	"golang.org/x/sync/singleflight"
)

// Options configure a Client. Only RepoURL and TrustedRoot are required;
// the zero value of every other field means its default.
type Options struct {
	// RepoURL is the base URL of the published repository (the directory
	// holding metadata/ and targets/): http, https or file.
	RepoURL string
	// TrustedRoot is the content of a root.json the caller pinned out of
	// band (shipped with the host, checked against a published hash). It
	// is never fetched from the repository: there is no trust on first use.
	TrustedRoot []byte
	// RootSHA256, if set, is the sha256 (hex) the caller expects of
	// TrustedRoot, as the repository publishes it: New refuses any other
	// root with a *RootPinError.
	RootSHA256 string
	// CacheDir holds trusted metadata and verified targets (see the
	// package documentation for its layout). Empty means
	// DefaultCacheDir(RepoURL).
	CacheDir string
	// HTTPClient performs requests; nil means a client with connect and
	// response-header timeouts (contexts bound whole transfers).
	HTTPClient *http.Client
	// IdleTimeout and RequestTimeout bound every request (see
	// FetcherOptions); zero means 30 s without data and 5 minutes whole.
	IdleTimeout, RequestTimeout time.Duration
	// CacheWhenUnreachable lets the client answer from the metadata it
	// verified before while the repository cannot be reached (a network
	// error or a 5xx answer): that metadata is verified again, signatures
	// and expiry, so nothing expired is ever trusted. For long-running
	// services (the proxy); a plain get fails instead.
	CacheWhenUnreachable bool
	// Header is added to every request, e.g. Authorization for a private
	// repository.
	Header http.Header
	// UserAgent is sent as User-Agent; empty means "ebpfrepo-client".
	UserAgent string
	// Retries is how many more times a transient failure is tried (see
	// FetcherOptions); 0 means 3, negative means never.
	Retries int
	// Now is the clock TUF expiry checks use; nil means time.Now.
	Now func() time.Time
	// Require lists the signing levels every artifact must carry, or it
	// is refused with a *PolicyError before anything is written:
	// LevelPublisher — signed by its publisher's own keys, not only by
	// the repository.
	Require []string
	// HVCITrust is what Require "hvci" checks drivers against; the zero
	// value is eBPF for Windows' production root (Microsoft Root
	// Certificate Authority 2011, by thumbprint). For tests.
	HVCITrust authenticode.Trust
	// KernelCerts are the kernel-signing certificates the host's kernel
	// keyring trusts (CAs or signing certificates); Require "kernel"
	// needs at least one, and re-checks every signed loader against them.
	KernelCerts []*x509.Certificate
	// Publishers pins, per package name, the publisher that must sign it
	// (implies LevelPublisher for those packages).
	Publishers map[string]string
	// MaxAge is how long a refresh of the metadata is reused before the
	// next call refreshes again (long-running users such as the proxy);
	// 0 means 5 minutes, negative means refresh on every call.
	MaxAge time.Duration
}

// Client resolves and fetches packages, verifying all of them through TUF.
// It is safe for concurrent use; calls that touch the repository are
// serialised.
type Client struct {
	hvciTrust   authenticode.Trust  // Options.HVCITrust
	kernelCerts []*x509.Certificate // Options.KernelCerts
	cacheOK     bool                // Options.CacheWhenUnreachable
	flights     singleflight.Group  // artifact transfers in progress, by target and sha256
	require     []string
	publishers  map[string]string
	base        string // RepoURL without trailing slash
	root        []byte
	now         func() time.Time
	maxAge      time.Duration
	fetcher     *Fetcher
	cacheDir    string
	metadataDir string
	targetsDir  string

	mu        sync.Mutex
	up        *Updater // nil until a refresh succeeded
	refreshed time.Time
	keyless   *keylessFiles // of the last session that looked
}

// DefaultCacheDir is the cache directory used when Options.CacheDir is
// empty: the user cache directory, ebpfrepo, and a hash of the URL.
func DefaultCacheDir(repoURL string) (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("cache dir: %w", err)
	}
	sum := sha256.Sum256([]byte(strings.TrimRight(repoURL, "/")))
	return filepath.Join(base, "ebpfrepo", hex.EncodeToString(sum[:8])), nil
}

// New returns a Client for opts. It checks the options and prepares the
// cache; it makes no request (the first call that needs metadata
// refreshes it).
func New(opts Options) (*Client, error) {
	u, err := url.Parse(opts.RepoURL)
	if err != nil {
		return nil, fmt.Errorf("repository URL %q: %w", opts.RepoURL, err)
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return nil, fmt.Errorf("repository URL %q: no host", opts.RepoURL)
		}
	case "file":
		if u.Path == "" {
			return nil, fmt.Errorf("repository URL %q: no path", opts.RepoURL)
		}
	default:
		hint := ""
		if u.Scheme == "" && filepath.IsAbs(opts.RepoURL) {
			hint = fmt.Sprintf(" (a local directory is file://%s)", filepath.ToSlash(opts.RepoURL))
		}
		return nil, fmt.Errorf("repository URL %q: scheme must be http, https or file%s", opts.RepoURL, hint)
	}
	if u.Scheme == "file" && u.Host != "" && u.Host != "localhost" {
		return nil, fmt.Errorf("repository URL %q: a file URL needs an absolute path: file:///%s%s (three slashes)", opts.RepoURL, u.Host, u.Path)
	}
	if len(opts.TrustedRoot) == 0 {
		return nil, errors.New("trusted root: required (pin the repository's root.json; there is no trust on first use)")
	}
	if want := strings.ToLower(strings.TrimSpace(opts.RootSHA256)); want != "" {
		sum := sha256.Sum256(opts.TrustedRoot)
		if got := hex.EncodeToString(sum[:]); got != want {
			return nil, &RootPinError{Got: got, Want: want}
		}
	}
	if _, err := metadata.Root().FromBytes(opts.TrustedRoot); err != nil {
		return nil, fmt.Errorf("trusted root: %w", err)
	}
	for _, l := range opts.Require {
		if l != LevelPublisher && l != LevelHVCI && l != LevelKernel {
			return nil, fmt.Errorf("require %q: unknown signing level (this client checks %q, %q and %q)", l, LevelPublisher, LevelKernel, LevelHVCI)
		}
		if l == LevelKernel && len(opts.KernelCerts) == 0 {
			return nil, fmt.Errorf("require %q: give the kernel-signing certificates this host's kernel keyring trusts (--kernel-cert FILE): every signed loader is re-checked against them", l)
		}
	}
	c := &Client{
		require:     slices.Clone(opts.Require),
		hvciTrust:   opts.HVCITrust,
		kernelCerts: slices.Clone(opts.KernelCerts),
		publishers:  maps.Clone(opts.Publishers),
		base:        strings.TrimRight(opts.RepoURL, "/"),
		root:        bytes.Clone(opts.TrustedRoot),
		now:         opts.Now,
		maxAge:      opts.MaxAge,
		fetcher: NewFetcher(FetcherOptions{
			HTTPClient: opts.HTTPClient, Header: opts.Header, UserAgent: opts.UserAgent, Retries: opts.Retries,
			IdleTimeout: opts.IdleTimeout, RequestTimeout: opts.RequestTimeout, Origin: OriginOf(opts.RepoURL),
		}),
		cacheDir: opts.CacheDir,
		cacheOK:  opts.CacheWhenUnreachable,
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.maxAge == 0 {
		c.maxAge = 5 * time.Minute
	}
	if c.cacheDir == "" {
		if c.cacheDir, err = DefaultCacheDir(opts.RepoURL); err != nil {
			return nil, err
		}
	}
	c.metadataDir = filepath.Join(c.cacheDir, "metadata")
	c.targetsDir = filepath.Join(c.cacheDir, "targets")
	if err := c.bindCache(); err != nil {
		return nil, err
	}
	return c, nil
}

// bindCache ties the metadata cache to the pinned root: a cache built
// from another root is discarded.
func (c *Client) bindCache() error {
	sum := sha256.Sum256(c.root)
	want := hex.EncodeToString(sum[:]) + "\n"
	marker := filepath.Join(c.cacheDir, "root.sha256")
	if got, err := os.ReadFile(marker); err == nil && string(got) == want {
		return os.MkdirAll(c.targetsDir, 0o700)
	}
	if err := os.RemoveAll(c.metadataDir); err != nil {
		return fmt.Errorf("cache %s: %w", c.cacheDir, err)
	}
	for _, d := range []string{c.metadataDir, c.targetsDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("cache: %w", err)
		}
	}
	if err := atomicfile.WriteFile(marker, []byte(want), 0o600); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}

// CacheDir returns the cache directory in use.
func (c *Client) CacheDir() string { return c.cacheDir }

// Refresh downloads and verifies the repository's metadata now (root
// rotations, timestamp, snapshot, targets), whatever MaxAge says.
func (c *Client) Refresh(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refreshLocked(ctx)
}

func (c *Client) refreshLocked(ctx context.Context) error {
	c.up = nil
	var root []byte
	if b, err := os.ReadFile(filepath.Join(c.metadataDir, "root.json")); err == nil {
		root = b // newest root verified by an earlier refresh from the pinned one
	} else {
		root = c.root
	}
	cfg := UpdaterConfig{
		MetadataURL: layout.MetadataURL(c.base),
		TargetsURL:  layout.TargetsURL(c.base),
		MetadataDir: c.metadataDir,
		TargetsDir:  c.targetsDir,
		TrustedRoot: root,
		Fetcher:     c.fetcher,
		Now:         c.now,
	}
	up, err := NewUpdater(ctx, cfg)
	if err != nil && !bytes.Equal(root, c.root) {
		// A damaged cache: start again from the pinned root.
		if rerr := os.RemoveAll(c.metadataDir); rerr != nil {
			return fmt.Errorf("repository %s: cache: %w", c.base, rerr)
		}
		cfg.TrustedRoot = c.root
		up, err = NewUpdater(ctx, cfg)
	}
	if err != nil {
		return fmt.Errorf("repository %s: %w", c.base, err)
	}
	if err := up.Refresh(); err != nil && raced(err) {
		// A build swapped the output between two of this refresh's
		// requests (the root probe, then a timestamp signed by a key
		// rotated since; or a file the older timestamp named, past the
		// grace period): once more from the start.
		if up, err = NewUpdater(ctx, cfg); err != nil {
			return fmt.Errorf("repository %s: %w", c.base, err)
		}
		err = up.Refresh()
		if err != nil {
			return c.refreshError(cfg, err)
		}
	} else if err != nil {
		if c.cacheOK && unreachable(err) {
			if lup, lerr := c.localUpdater(ctx, cfg); lerr == nil {
				c.up = lup // c.refreshed stays: the next call tries the repository again
				return nil
			}
		}
		return c.refreshError(cfg, err)
	}
	c.up, c.refreshed = up, c.now()
	return nil
}

// unreachable reports whether err is the repository not answering (a
// transport error after retries, or a 5xx), not a verification failure.
func unreachable(err error) bool {
	var fe *FetchError
	var he *metadata.ErrDownloadHTTP
	return errors.As(err, &fe) || errors.As(err, &he) && he.StatusCode >= 500
}

// localUpdater is an updater over the metadata verified earlier only.
func (c *Client) localUpdater(ctx context.Context, cfg UpdaterConfig) (*Updater, error) {
	cfg.LocalOnly = true
	cfg.TrustedRoot = nil // MetadataDir/root.json
	up, err := NewUpdater(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := up.Refresh(); err != nil {
		return nil, err
	}
	return up, nil
}

// raced reports whether a refresh failure may be a build swapping the
// output mid-refresh: worth one more try, never more.
func raced(err error) bool {
	return gone(err) || errors.Is(err, &metadata.ErrUnsignedMetadata{}) || errors.Is(err, &metadata.ErrBadVersionNumber{})
}

// refreshError says what a failed refresh means.
func (c *Client) refreshError(cfg UpdaterConfig, err error) error {
	if bytes.Equal(cfg.TrustedRoot, c.root) && errors.Is(err, &metadata.ErrUnsignedMetadata{}) && strings.Contains(err.Error(), "got 0") {
		return fmt.Errorf("repository %s: the pinned root signs none of this repository's metadata: is it the root of another repository (or was the repository re-initialised)? Get the repository's own root.json and check its sha256 (--root-sha256): %w", c.base, err)
	}
	var he *metadata.ErrDownloadHTTP
	if errors.As(err, &he) && he.StatusCode == http.StatusNotFound && strings.HasSuffix(he.URL, "/timestamp.json") {
		return fmt.Errorf("repository %s: no metadata/timestamp.json there: --repo is the repository's base URL, the directory that holds metadata/ and targets/ (not its l3afd/ tree): %w", c.base, err)
	}
	return fmt.Errorf("repository %s: refresh metadata: %w", c.base, err)
}

// session returns a refreshed updater bound to ctx; c.mu must be held.
func (c *Client) session(ctx context.Context) (*Updater, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if c.up == nil || c.maxAge < 0 || c.now().Sub(c.refreshed) >= c.maxAge {
		if err := c.refreshLocked(ctx); err != nil {
			return nil, err
		}
	}
	c.up.SetContext(ctx)
	return c.up, nil
}

// target returns the verified bytes of a target and the session whose
// metadata vouched for them.
func (c *Client) target(ctx context.Context, targetPath string) ([]byte, *Updater, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for retried := false; ; retried = true {
		up, tf, err := c.targetInfo(ctx, targetPath)
		if err != nil {
			return nil, nil, err
		}
		data, _, err := up.Download(tf)
		if err != nil && !retried && gone(err) {
			c.up = nil // refresh once: a newer build replaced it
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("target %s: %w", targetPath, err)
		}
		return data, up, nil
	}
}

// targetInfo returns a refreshed updater and the signed info of
// targetPath; c.mu must be held. A file the metadata in hand names that
// the host no longer has (an older snapshot's bins, a target removed by a
// build since, past the repository's grace period) makes it refresh from
// timestamp.json once and look again.
func (c *Client) targetInfo(ctx context.Context, targetPath string) (*Updater, *metadata.TargetFiles, error) {
	return c.targetInfoIn(ctx, nil, targetPath)
}

// targetInfoIn is targetInfo that looks in the session in first, when
// not nil, rather than in a refreshed one: the session another target
// (a package's index) was read in, so that the two come from one
// snapshot, as the builder's self-check found them consistent. Between
// two refreshes a build may remove what the first listed; a reader
// that refreshed for every lookup saw an index from one build and the
// bins of the next. Only when the host no longer has a file of in's
// snapshot does it move on to a refreshed session.
func (c *Client) targetInfoIn(ctx context.Context, in *Updater, targetPath string) (*Updater, *metadata.TargetFiles, error) {
	if in != nil {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		in.SetContext(ctx)
		tf, err := in.TargetInfo(targetPath)
		if err == nil || !gone(err) {
			return in, tf, err
		}
		if c.up == in {
			c.up = nil
		}
	}
	for retried := false; ; retried = true {
		up, err := c.session(ctx)
		if err != nil {
			return nil, nil, err
		}
		tf, err := up.TargetInfo(targetPath)
		if err != nil && !retried && gone(err) {
			c.up = nil
			continue
		}
		return up, tf, err
	}
}

// forgetBins lets the hashed bins go-tuf holds go but targetPath's
// (Updater.forgetBins).
func (c *Client) forgetBins(targetPath string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.up != nil {
		c.up.forgetBins(targetPath)
	}
}

// gone reports whether err is the host answering that a file is not
// there (404, or 403 as S3 answers for a missing key).
func gone(err error) bool {
	var he *metadata.ErrDownloadHTTP
	return errors.As(err, &he) && (he.StatusCode == http.StatusNotFound || he.StatusCode == http.StatusForbidden)
}

// Roles describes the trusted TUF roles, including the hashed bins that
// sign the given target paths.
func (c *Client) Roles(ctx context.Context, targetPaths ...string) ([]index.RoleInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	up, err := c.session(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range targetPaths {
		if _, err := up.TargetInfo(p); err != nil {
			return nil, err
		}
	}
	return up.Roles(targetPaths...), nil
}

// PublisherRole returns the repository's current, verified
// pub-<publisher>.json (nil when the publisher has signed nothing yet):
// what ebpfrepo sign builds the next version on.
func (c *Client) PublisherRole(ctx context.Context, publisher string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	up, err := c.session(ctx)
	if err != nil {
		return nil, err
	}
	return up.DelegatedRole("pub-" + publisher)
}
