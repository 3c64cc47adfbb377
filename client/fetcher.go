package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/fetcher"
)

// FetcherOptions configure a Fetcher. The zero value means defaults.
type FetcherOptions struct {
	// HTTPClient performs requests; nil means a client with connect,
	// TLS-handshake and response-header timeouts (the context bounds the
	// whole transfer).
	HTTPClient *http.Client
	// Header is added to every request (for example Authorization for a
	// private repository).
	Header http.Header
	// UserAgent is sent as User-Agent; empty means "ebpfrepo-client".
	UserAgent string
	// Retries is how many more times a transient failure (connection
	// error, timeout, reset, 5xx, 408, 429) is tried; 0 means 3, negative
	// means never. Any other 4xx answer and a length over the signed
	// bound are never retried.
	Retries int
	// Backoff is the wait before the first retry, doubled on each
	// further one (capped at 5 s); 0 means 250 ms.
	Backoff time.Duration
	// IdleTimeout ends a request when no byte of the answer arrives for
	// that long (a host that stalls after the headers); 0 means 30 s.
	IdleTimeout time.Duration
	// RequestTimeout bounds each request whole, retries aside; 0 means
	// 5 minutes.
	RequestTimeout time.Duration
	// Origin, if set ("https://host:port"), is the only origin Header is
	// sent to: a request to, or a redirect to, another scheme, host or
	// port goes without it. The client sets it to the repository's.
	Origin string
}

// Fetcher downloads files over http, https or from file:// URLs, bounded
// by the length the signed metadata allows. It is safe for concurrent
// use. Its TUF adapter (see Bind) implements go-tuf's fetcher.Fetcher.
type Fetcher struct {
	hc      *http.Client
	header  http.Header
	ua      string
	retries int
	backoff time.Duration
	idle    time.Duration
	timeout time.Duration
	origin  string
}

// FetchError reports a download that failed without an HTTP answer
// (connection refused, timeout, reset), after every retry.
type FetchError struct {
	URL      string
	Attempts int
	Err      error
}

func (e *FetchError) Error() string {
	return fmt.Sprintf("fetch %s: %d attempt(s): %v", e.URL, e.Attempts, e.Err)
}

func (e *FetchError) Unwrap() error { return e.Err }

// NewFetcher returns a Fetcher configured by opts.
func NewFetcher(opts FetcherOptions) *Fetcher {
	f := &Fetcher{hc: opts.HTTPClient, header: opts.Header.Clone(), ua: opts.UserAgent, retries: opts.Retries, backoff: opts.Backoff,
		idle: opts.IdleTimeout, timeout: opts.RequestTimeout, origin: opts.Origin}
	if f.hc == nil {
		f.hc = defaultHTTPClient()
	}
	// Headers (Authorization) never follow a redirect to another origin:
	// net/http keeps them for the same host on another port.
	hc := *f.hc
	next := hc.CheckRedirect
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if originOf(req.URL) != originOf(via[0].URL) {
			for k := range f.header {
				req.Header.Del(k)
			}
			req.Header.Del("Authorization")
			req.Header.Del("Cookie")
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	f.hc = &hc
	if f.idle <= 0 {
		f.idle = 30 * time.Second
	}
	if f.timeout <= 0 {
		f.timeout = 5 * time.Minute
	}
	if f.ua == "" {
		f.ua = "ebpfrepo-client"
	}
	switch {
	case f.retries == 0:
		f.retries = 3
	case f.retries < 0:
		f.retries = 0
	}
	if f.backoff <= 0 {
		f.backoff = 250 * time.Millisecond
	}
	return f
}

func defaultHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   4,
		ForceAttemptHTTP2:     true,
	}}
}

// Bind returns go-tuf's fetcher interface backed by f, whose downloads are
// bound to ctx (go-tuf's interface carries no context).
func (f *Fetcher) Bind(ctx context.Context) fetcher.Fetcher {
	return &boundFetcher{f: f, ctx: ctx}
}

// boundFetcher adapts Fetcher to go-tuf, carrying the context of the
// operation in progress. The client swaps ctx under its lock.
type boundFetcher struct {
	f   *Fetcher
	ctx context.Context
}

func (b *boundFetcher) DownloadFile(urlPath string, maxLength int64, _ time.Duration) ([]byte, error) {
	return b.f.Download(b.ctx, urlPath, maxLength)
}

// rootProbe matches the versioned root file names go-tuf probes for.
var rootProbe = regexp.MustCompile(`^[0-9]+\.root\.json$`)

// Download fetches rawURL, reading at most maxLength bytes: a longer
// answer fails with *metadata.ErrDownloadLengthMismatch. An answer other
// than 200 is a *metadata.ErrDownloadHTTP; a 403 on a versioned root file
// (N.root.json) is reported as 404, because S3 and CloudFront answer 403
// for missing files and go-tuf stops probing for newer roots only on 404.
func (f *Fetcher) Download(ctx context.Context, rawURL string, maxLength int64) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", rawURL, err)
	}
	switch u.Scheme {
	case "file":
		return readFileURL(ctx, u, rawURL, maxLength)
	case "http", "https":
	default:
		return nil, fmt.Errorf("fetch %s: unsupported scheme %q (want http, https or file)", rawURL, u.Scheme)
	}
	var lastErr error
	for attempt := 0; ; attempt++ {
		data, err, retry := f.try(ctx, rawURL, maxLength)
		if err == nil {
			return data, nil
		}
		lastErr = err
		if !retry || attempt >= f.retries || ctx.Err() != nil {
			var he *metadata.ErrDownloadHTTP
			var le *metadata.ErrDownloadLengthMismatch
			if errors.As(err, &he) || errors.As(err, &le) {
				return nil, err
			}
			if cerr := ctx.Err(); cerr != nil {
				if errors.Is(err, cerr) {
					return nil, err
				}
				// Keep the cause visible to errors.Is (a read cut by the
				// deadline reports only the broken connection).
				lastErr = errors.Join(err, cerr)
			}
			return nil, &FetchError{URL: rawURL, Attempts: attempt + 1, Err: lastErr}
		}
		wait := f.backoff << attempt
		if wait > 5*time.Second || wait <= 0 {
			wait = 5 * time.Second
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, &FetchError{URL: rawURL, Attempts: attempt + 1, Err: errors.Join(lastErr, ctx.Err())}
		case <-t.C:
		}
	}
}

// originOf is scheme://host:port of u, the port made explicit.
func originOf(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return u.Scheme + "://" + u.Hostname() + ":" + port
}

// OriginOf returns the origin (scheme://host:port) of rawURL, for
// FetcherOptions.Origin; "" if it does not parse.
func OriginOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return originOf(u)
}

// errStalled ends a request whose answer stopped arriving.
type stallError struct{ idle time.Duration }

func (e *stallError) Error() string {
	return fmt.Sprintf("no data for %v: the host stalled", e.idle)
}

// idleReader cancels its request when a Read waits longer than the idle
// timeout.
type idleReader struct {
	r     io.Reader
	timer *time.Timer
	idle  time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.timer.Reset(r.idle)
	return n, err
}

// try makes one request; retry reports whether the failure is transient.
func (f *Fetcher) try(ctx context.Context, rawURL string, maxLength int64) (data []byte, err error, retry bool) {
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	rctx, cancelT := context.WithTimeoutCause(rctx, f.timeout, fmt.Errorf("no answer within %v", f.timeout))
	defer cancelT()
	stall := time.AfterFunc(f.timeout+time.Minute, func() { cancel(&stallError{f.idle}) })
	defer stall.Stop()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err, false
	}
	if f.origin == "" || originOf(req.URL) == f.origin {
		for k, vs := range f.header {
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
	}
	req.Header.Set("User-Agent", f.ua)
	res, err := f.hc.Do(req)
	if err != nil {
		if cause := context.Cause(rctx); cause != nil && ctx.Err() == nil {
			err = cause
		}
		return nil, err, ctx.Err() == nil
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
		code := res.StatusCode
		if code == http.StatusForbidden && rootProbe.MatchString(path.Base(req.URL.Path)) {
			code = http.StatusNotFound
		}
		transient := code >= 500 || code == http.StatusTooManyRequests || code == http.StatusRequestTimeout
		return nil, &metadata.ErrDownloadHTTP{StatusCode: code, URL: rawURL}, transient
	}
	if cl := res.Header.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n > maxLength {
			return nil, lengthError(rawURL, n, maxLength), false
		}
	}
	stall.Reset(f.idle)
	data, err = io.ReadAll(io.LimitReader(&idleReader{r: res.Body, timer: stall, idle: f.idle}, maxLength+1))
	if err != nil {
		if cause := context.Cause(rctx); cause != nil && ctx.Err() == nil {
			err = cause
		}
		return nil, err, ctx.Err() == nil
	}
	if int64(len(data)) > maxLength {
		return nil, lengthError(rawURL, int64(len(data)), maxLength), false
	}
	if err := checkMetadataBody(rawURL, res.Header.Get("Content-Type"), data); err != nil {
		return nil, err, false
	}
	return data, nil, false
}

// MetadataError is a file of TUF metadata that is not JSON at all: the
// host answered something else (an HTML page, a damaged file).
type MetadataError struct {
	URL    string
	Reason string
}

func (e *MetadataError) Error() string { return fmt.Sprintf("%s: %s", e.URL, e.Reason) }

// checkMetadataBody names what a host answered for a metadata file when
// it is not JSON, before go-tuf's parser reports a bare syntax error.
func checkMetadataBody(rawURL, contentType string, data []byte) error {
	if path.Ext(rawURL) != ".json" || !strings.Contains(rawURL, "/metadata/") || json.Valid(data) {
		return nil
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if strings.HasPrefix(contentType, "text/html") || bytes.HasPrefix(trimmed, []byte("<")) {
		return &MetadataError{URL: rawURL, Reason: "the host answered HTML, not TUF metadata: is --repo the repository's base URL (the directory holding metadata/ and targets/), and does the host serve every file as it is?"}
	}
	return &MetadataError{URL: rawURL, Reason: fmt.Sprintf("not valid JSON (%d bytes): the file is damaged on the host; rebuild or re-upload the repository", len(data))}
}

func lengthError(rawURL string, n, max int64) error {
	return &metadata.ErrDownloadLengthMismatch{Msg: fmt.Sprintf("download %s: at least %d bytes, more than the %d the signed metadata allow", rawURL, n, max)}
}

// readFileURL reads a file:// URL; a missing file is a 404 so that root
// probing ends as it does over HTTP.
func readFileURL(ctx context.Context, u *url.URL, rawURL string, maxLength int64) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if u.Host != "" && u.Host != "localhost" {
		return nil, fmt.Errorf("fetch %s: file URL with host %q", rawURL, u.Host)
	}
	fh, err := os.Open(u.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &metadata.ErrDownloadHTTP{StatusCode: http.StatusNotFound, URL: rawURL}
	}
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", rawURL, err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return nil, &metadata.ErrDownloadHTTP{StatusCode: http.StatusNotFound, URL: rawURL}
	}
	if st.Size() > maxLength {
		return nil, lengthError(rawURL, st.Size(), maxLength)
	}
	// Read what the file says it holds in one allocation (io.ReadAll's
	// doubling was most of a local Check's garbage), and at most one
	// byte more, so a file that grew is still caught.
	data := make([]byte, 0, st.Size()+1)
	data, err = readAllInto(data, io.LimitReader(fh, maxLength+1))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", rawURL, err)
	}
	if int64(len(data)) > maxLength {
		return nil, lengthError(rawURL, int64(len(data)), maxLength)
	}
	if err := checkMetadataBody(rawURL, "", data); err != nil {
		return nil, err
	}
	return data, nil
}

// readAllInto appends r's bytes to buf until EOF.
func readAllInto(buf []byte, r io.Reader) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
