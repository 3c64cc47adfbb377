package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/layout"
)

// ProxyOptions configure NewProxy. The zero value means defaults.
type ProxyOptions struct {
	// Log, when set, is called once per request with the status sent and
	// the error behind a 4xx/5xx answer (nil otherwise).
	Log func(r *http.Request, status int, err error)
	// RequestTimeout bounds each request (metadata refresh and artifact
	// transfer): past it the answer is 504 with the reason. 0 means 60 s.
	RequestTimeout time.Duration
}

// NewProxy returns an HTTP handler answering l3afd's own downloads,
// GET /<name>/<version>/<platform>/<artifact> with version an exact
// version or "latest", by resolving and fetching through c: 200 with
// the verified bytes; 404 for an unknown package, version, platform or
// artifact; 502 with the reason when verification or the repository
// fails; 405 for methods other than GET and HEAD. It never sends bytes
// that did not verify. Point l3afd's [ebpf-repo] url (or a program's
// ebpf_package_repo_url) at it.
func NewProxy(c *Client, opts ProxyOptions) http.Handler {
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = time.Minute
	}
	return &proxy{c: c, log: opts.Log, timeout: opts.RequestTimeout}
}

type proxy struct {
	c       *Client
	log     func(*http.Request, int, error)
	timeout time.Duration
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), p.timeout)
	defer cancel()
	status, err := p.serve(w, r.WithContext(ctx))
	if err != nil && (ctx.Err() == context.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded)) {
		status, err = http.StatusGatewayTimeout, fmt.Errorf("the repository did not answer within %v: %w", p.timeout, err)
	}
	if err != nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			w.Write([]byte(err.Error() + "\n"))
		}
	}
	if p.log != nil {
		p.log(r, status, err)
	}
}

var errNotFound = errors.New("not found: want /<name>/<version|latest>/<platform>/<artifact>")

func (p *proxy) serve(w http.ResponseWriter, r *http.Request) (int, error) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		return http.StatusMethodNotAllowed, errors.New("method not allowed")
	}
	name, version, platform, artifact, err := parseProxyPath(r.URL.Path)
	if err != nil {
		return http.StatusNotFound, err
	}
	rel, data, err := p.c.Get(r.Context(), name, version, platform)
	if err != nil {
		return statusOf(err), err
	}
	if rel.Artifact != artifact {
		return http.StatusNotFound, errors.New("package " + name + "@" + rel.Version + ": artifact is " + rel.Artifact + ", not " + artifact)
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("X-Ebpfrepo-Version", rel.Version)
	h.Set("X-Ebpfrepo-Sha256", rel.SHA256)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(data)
	}
	return http.StatusOK, nil
}

// parseProxyPath splits l3afd's /<name>/<version>/<platform>/<artifact>,
// accepting only safe path components and an exact version or "latest".
func parseProxyPath(p string) (name, version, platform, artifact string, err error) {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	if len(parts) != 4 {
		return "", "", "", "", errNotFound
	}
	name, version, platform, artifact = parts[0], parts[1], parts[2], parts[3]
	for _, x := range [][2]string{{"name", name}, {"platform", platform}, {"artifact", artifact}} {
		if err := checkComponent(x[0], x[1]); err != nil {
			return "", "", "", "", err
		}
	}
	if version != layout.LatestVersion {
		if _, err := semver.StrictNewVersion(version); err != nil {
			return "", "", "", "", errNotFound
		}
	}
	return name, version, platform, artifact, nil
}

// statusOf maps a resolution error to 404, a refusal of the client's
// policy (--require publisher) to 403, and anything else (failed
// verification, unreachable repository) to 502.
func statusOf(err error) int {
	if errors.Is(err, ErrPolicy) {
		return http.StatusForbidden
	}
	var (
		nf *NotFoundError
		nm *index.NoMatchError
		pe *index.PlatformError
		ce *index.ConstraintError
	)
	if errors.As(err, &nf) || errors.As(err, &nm) || errors.As(err, &pe) || errors.As(err, &ce) {
		return http.StatusNotFound
	}
	return http.StatusBadGateway
}
