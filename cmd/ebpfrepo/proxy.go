package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/ebpfrepo/ebpfrepo/client"
	"github.com/spf13/cobra"
)

func init() { registerCommand(newProxyCmd) }

func newProxyCmd(g *globals) *cobra.Command {
	var (
		cf         consumerFlags
		listen     string
		reqTimeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "proxy --repo URL --root ROOT.json [--listen 127.0.0.1:8181]",
		Short: "Serve l3afd's downloads locally, verified through TUF",
		Long: `Answer l3afd's own requests, GET /<name>/<version|latest>/<platform>/<artifact>,
by resolving and fetching through the verifying client: 200 with verified
bytes, 404 for an unknown package, version, platform or artifact, 502 with the
reason when verification fails or the repository cannot be reached, 504 when
it does not answer within --request-timeout. Concurrent requests are served
concurrently; concurrent requests for one artifact share one transfer. If
the repository cannot be reached at start-up (or later), the proxy still
listens and answers from the packages it verified before, while their
metadata has not expired. Configure l3afd with

  [ebpf-repo]
  url: http://127.0.0.1:8181

(or a program's ebpf_package_repo_url). Runs until interrupted. Requests are
logged to stderr; with --json, one JSON object per request on stdout.`,
		Args: argsBetween(0, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			cf.cacheWhenUnreachable = true
			c, err := cf.newClient()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			// Fail fast on a wrong root or an unreachable repository.
			rctx, cancel := context.WithTimeout(ctx, time.Minute)
			err = c.Refresh(rctx)
			cancel()
			var fe *client.FetchError
			switch {
			case errors.As(err, &fe):
				fmt.Fprintf(g.Stderr, "proxy: warning: the repository cannot be reached (%v): serving what was verified before; other requests get 502 until it answers\n", err)
			case err != nil:
				return consumerFail(err)
			}
			l, err := net.Listen("tcp", listen)
			if err != nil {
				return usagef("--listen %s: %v", listen, err)
			}
			return serveProxy(ctx, g, c, l, reqTimeout)
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8181", "address to listen on")
	cmd.Flags().DurationVar(&reqTimeout, "request-timeout", time.Minute, "time limit of each request (metadata and transfer): past it, 504")
	return cmd
}

// proxyLog is one request of the proxy log (--json: one JSON object per
// line on stdout).
type proxyLog struct {
	Time   time.Time `json:"time"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	Status int       `json:"status"`
	Error  string    `json:"error,omitempty"`
}

// serveProxy serves the verifying proxy on l until ctx is done.
func serveProxy(ctx context.Context, g *globals, c *client.Client, l net.Listener, timeout time.Duration) error {
	var mu sync.Mutex
	enc := json.NewEncoder(g.Stdout)
	h := client.NewProxy(c, client.ProxyOptions{RequestTimeout: timeout, Log: func(r *http.Request, status int, err error) {
		mu.Lock()
		defer mu.Unlock()
		if g.JSON {
			e := proxyLog{Time: time.Now().UTC(), Method: r.Method, Path: r.URL.Path, Status: status}
			if err != nil {
				e.Error = err.Error()
			}
			enc.Encode(e)
			return
		}
		if err != nil {
			fmt.Fprintf(g.Stderr, "proxy: %s %s: %d: %v\n", r.Method, r.URL.Path, status, err)
			return
		}
		fmt.Fprintf(g.Stderr, "proxy: %s %s: %d\n", r.Method, r.URL.Path, status)
	}})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	mu.Lock()
	if g.JSON {
		enc.Encode(struct {
			Listen string `json:"listen"`
		}{"http://" + l.Addr().String()})
	} else {
		fmt.Fprintf(g.Stdout, "proxy: serving verified packages on http://%s\n", l.Addr())
	}
	mu.Unlock()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}
