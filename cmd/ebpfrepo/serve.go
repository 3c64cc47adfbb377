package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/spf13/cobra"
)

func init() { registerCommand(newServeCmd) }

func newServeCmd(g *globals) *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "serve DIR [--addr 127.0.0.1:8080]",
		Short: "Serve a built repository locally (previews and tests)",
		Long: `Serve DIR (a build output) over HTTP with correct content types
(.json as application/json, .tar.gz as application/gzip) and the cache
headers a CDN should use: everything immutable except timestamp.json.
For previews and tests; publish with a real static host.`,
		Args: argsBetween(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkServable(args[0]); err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			srv := &http.Server{Handler: serveHandler(args[0]), ReadHeaderTimeout: 10 * time.Second}
			fmt.Fprintf(g.Stdout, "serving %s on http://%s/ (Ctrl-C to stop)\n", args[0], ln.Addr())
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			select {
			case err := <-errc:
				return err
			case <-cmd.Context().Done():
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
					return err
				}
				return nil
			}
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	return cmd
}

// serveHandler serves dir read-only with explicit content types and
// cache headers.
func serveHandler(dir string) http.Handler {
	fs := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p := r.URL.Path
		if ct := layout.ContentType(p); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.Header().Set("Cache-Control", layout.CacheControl(p))
		w.Header().Set("X-Content-Type-Options", "nosniff")
		fs.ServeHTTP(w, r)
	})
}

// checkServable refuses to serve anything but a build output: above all a
// repository directory, whose keys/ would be served with it.
func checkServable(dir string) error {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return usagef("serve: %s is not a directory", dir)
	}
	for _, p := range []string{layout.ConfigFile, layout.KeysDir} {
		if _, err := os.Lstat(filepath.Join(dir, p)); err == nil {
			return usagef("serve: %s holds %s: it is a repository directory, whose keys must never be served; serve its build output (%s)",
				dir, p, filepath.Join(dir, layout.PublicDir))
		}
	}
	if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(layout.Timestamp))); err != nil {
		return usagef("serve: %s has no %s: not a build output (ebpfrepo build writes one)", dir, layout.Timestamp)
	}
	return nil
}
