package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ebpfrepo/ebpfrepo/client"
	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/internal/pemcert"
	"github.com/spf13/cobra"
)

// consumerFlags are the flags every consumer command (get, mirror,
// proxy, search, info) shares: where the repository is and which root
// the user pinned.
type consumerFlags struct {
	repo        string
	root        string
	rootSHA256  string
	cache       string
	headers     []string
	timeout     time.Duration
	require     []string
	publishers  []string
	kernelCerts []string

	cacheWhenUnreachable bool // set by the proxy: client.Options.CacheWhenUnreachable
}

func (f *consumerFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.repo, "repo", "", "repository URL: http(s)://… or file:///… (required)")
	fl.StringVar(&f.root, "root", "", "pinned root.json of the repository, obtained out of band (required)")
	fl.StringVar(&f.rootSHA256, "root-sha256", "", "expected sha256 (hex) of the --root file, as the repository publishes it")
	fl.StringVar(&f.cache, "cache", "", "cache directory (default: the user cache dir/ebpfrepo/<hash of the URL>)")
	fl.StringArrayVar(&f.headers, "header", nil, `extra HTTP header "Name: value" for private repositories (repeatable); $EBPFREPO_TOKEN adds "Authorization: Bearer …"`)
	fl.DurationVar(&f.timeout, "timeout", 5*time.Minute, "overall time limit of the command (0: none; not applied to proxy)")
	fl.StringSliceVar(&f.require, "require", nil, `signing levels every artifact must carry: "publisher" (signed by its author's own keys), "hvci" (every Windows driver production-signed for eBPF for Windows, re-verified from the bytes), "kernel" (a signed light-skeleton loader, re-verified offline against --kernel-cert)`)
	fl.StringArrayVar(&f.kernelCerts, "kernel-cert", nil, "PEM file of kernel-signing certificates this host's kernel keyring trusts (repeatable): --require kernel checks every signed loader against them")
	fl.StringArrayVar(&f.publishers, "publisher", nil, "the publisher that must sign the packages named (PUBLISHER, or PACKAGE=PUBLISHER; repeatable)")
}

// newClient checks the flags and returns a client for them; names are the
// packages the command line names (a bare --publisher applies to them).
func (f *consumerFlags) newClient(names ...string) (*client.Client, error) {
	if f.repo == "" {
		return nil, usagef("--repo is required")
	}
	if f.root == "" {
		return nil, usagef("--root is required: pin the repository's root.json (there is no trust on first use)")
	}
	root, err := os.ReadFile(f.root)
	if err != nil {
		return nil, usagef("--root: %v", err)
	}
	h := http.Header{}
	for _, kv := range f.headers {
		k, v, ok := strings.Cut(kv, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, usagef("--header %q: want \"Name: value\"", kv)
		}
		h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	if tok := os.Getenv("EBPFREPO_TOKEN"); tok != "" && h.Get("Authorization") == "" {
		h.Set("Authorization", "Bearer "+tok)
	}
	pins := map[string]string{}
	for _, p := range f.publishers {
		if pkg, pub, ok := strings.Cut(p, "="); ok {
			pins[pkg] = pub
			continue
		}
		if len(names) == 0 {
			return nil, usagef("--publisher %s: name the package too (PACKAGE=PUBLISHER)", p)
		}
		for _, n := range names {
			pins[n] = p
		}
	}
	var kcerts []*x509.Certificate
	for _, file := range f.kernelCerts {
		cs, err := pemcert.ReadFile(file)
		if err != nil {
			return nil, usagef("--kernel-cert: %v", err)
		}
		kcerts = append(kcerts, cs...)
	}
	c, err := client.New(client.Options{RepoURL: f.repo, TrustedRoot: root, RootSHA256: f.rootSHA256, CacheDir: f.cache, Header: h, UserAgent: "ebpfrepo",
		Require: f.require, Publishers: pins, CacheWhenUnreachable: f.cacheWhenUnreachable, KernelCerts: kcerts})
	var pin *client.RootPinError
	if errors.As(err, &pin) {
		return nil, consumerFail(fmt.Errorf("--root %s: %w", f.root, err))
	}
	if err != nil {
		return nil, usagef("%v", err)
	}
	return c, nil
}

// signerText describes who vouches for an artifact, for people.
func signerText(s index.PackageSignature) string {
	if s.Signer != index.SignerPublisher {
		return "repository-signed only (no publisher holds this package)"
	}
	if k := s.Keyless; k != nil {
		return fmt.Sprintf("signed by keyless publisher %s (%s, issuer %s; Sigstore bundle verified offline, log entry %d)", s.Publisher, k.Identity, k.Issuer, k.LogIndex)
	}
	ids := make([]string, len(s.KeyIDs))
	for i, id := range s.KeyIDs {
		ids[i] = id[:min(len(id), 12)]
	}
	return fmt.Sprintf("signed by publisher %s (key %s)", s.Publisher, strings.Join(ids, ", "))
}

// consumerFailure marks an error of the repository or of verification:
// exit status 1, with the client's message intact.
type consumerFailure struct{ err error }

func (e *consumerFailure) Error() string   { return e.err.Error() }
func (e *consumerFailure) Unwrap() []error { return []error{e.err, errValidation} }

// commandContext applies --timeout to the command's context.
func (f *consumerFlags) context(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	if f.timeout > 0 {
		return context.WithTimeout(cmd.Context(), f.timeout)
	}
	return context.WithCancel(cmd.Context())
}

func consumerFail(err error) error {
	if err == nil {
		return nil
	}
	var ce *index.ConstraintError
	if errors.As(err, &ce) {
		return &usageError{err} // the command line's constraint does not parse
	}
	return &consumerFailure{err}
}

// parseSelector splits NAME[@CONSTRAINT].
func parseSelector(s string) (name, constraint string, err error) {
	name, constraint, _ = strings.Cut(s, "@")
	if name == "" {
		return "", "", usagef("%q: want NAME[@CONSTRAINT]", s)
	}
	return name, constraint, nil
}

// consumerAbs returns dir made absolute (for messages and file:// URLs).
func consumerAbs(dir string) string {
	if a, err := filepath.Abs(dir); err == nil {
		return a
	}
	return dir
}
