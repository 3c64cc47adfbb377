// Command tuf-conformance-client implements the client-under-test CLI of
// the TUF conformance suite (theupdateframework/tuf-conformance,
// CLIENT-CLI.md) with the fetcher, updater wiring and cache layout of
// package client, so that the suite exercises ebpfrepo's own client code:
//
//	tuf-conformance-client --metadata-dir DIR init TRUSTED_ROOT
//	tuf-conformance-client --metadata-dir DIR --metadata-url URL refresh
//	tuf-conformance-client --metadata-dir DIR --metadata-url URL \
//	    --target-name PATH [--target-name PATH...] --target-base-url URL --target-dir DIR download
//
// The exit status is 0 on success and 1 on any failure.
//
// The suite runs some commands under faketime(1). libfaketime does not
// reach a Go program's clock, so the reference time of TUF expiry checks
// is taken from the FAKETIME environment variable that faketime sets,
// when it holds an absolute time ("[@]2006-01-02 15:04:05", local time)
// or an offset ("+2d", "-10h"; units s, m, h, d, y).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ebpfrepo/ebpfrepo/client"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command and returns the exit status.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("tuf-conformance-client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		metadataDir   = fs.String("metadata-dir", "", "trusted metadata directory")
		metadataURL   = fs.String("metadata-url", "", "URL of the repository metadata")
		targetNames   stringList
		targetBaseURL = fs.String("target-base-url", "", "URL of the repository targets")
		targetDir     = fs.String("target-dir", "", "directory for verified targets")
		retries       = fs.Int("retries", -1, "retries of transient failures (default none, so request counts stay exact)")
	)
	fs.Var(&targetNames, "target-name", "TUF target path to download (repeatable: downloaded in order by one updater)")
	if err := fs.Parse(args); err != nil {
		return 1
	}
	rest := fs.Args()
	if *metadataDir == "" || len(rest) == 0 {
		fmt.Fprintln(stderr, "usage: tuf-conformance-client --metadata-dir DIR [flags] init TRUSTED_ROOT | refresh | download")
		return 1
	}
	fetcher := client.NewFetcher(client.FetcherOptions{Retries: *retries, UserAgent: "ebpfrepo-tuf-conformance-client"})
	now, err := fakeNow(os.Getenv("FAKETIME"), time.Now)
	if err != nil {
		fmt.Fprintf(stderr, "tuf-conformance-client: %v\n", err)
		return 1
	}
	switch rest[0] {
	case "init":
		if len(rest) != 2 {
			err = errors.New("init: want TRUSTED_ROOT")
			break
		}
		err = initCmd(*metadataDir, rest[1])
	case "refresh":
		err = refreshCmd(ctx, fetcher, now, *metadataDir, *metadataURL)
	case "download":
		err = downloadCmd(ctx, fetcher, now, *metadataDir, *metadataURL, targetNames, *targetBaseURL, *targetDir)
	default:
		err = fmt.Errorf("unknown command %q", rest[0])
	}
	if err != nil {
		fmt.Fprintf(stderr, "tuf-conformance-client: %v\n", err)
		return 1
	}
	return 0
}

// initCmd copies the trusted root into the metadata dir; no request.
func initCmd(metadataDir, trustedRoot string) error {
	data, err := os.ReadFile(trustedRoot)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(metadataDir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(metadataDir, ".root.json.tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(metadataDir, "root.json"))
}

// session starts an updater from metadataDir/root.json.
func session(ctx context.Context, f *client.Fetcher, now func() time.Time, metadataDir, metadataURL, targetsURL, targetsDir string) (*client.Updater, func(), error) {
	if metadataURL == "" {
		return nil, nil, errors.New("--metadata-url is required")
	}
	cleanup := func() {}
	if targetsDir == "" {
		// refresh downloads no target; keep go-tuf's targets dir out of
		// the metadata dir the suite inspects.
		d, err := os.MkdirTemp("", "tuf-conformance-targets-")
		if err != nil {
			return nil, nil, err
		}
		targetsDir, cleanup = d, func() { os.RemoveAll(d) }
	}
	up, err := client.NewUpdater(ctx, client.UpdaterConfig{
		MetadataURL: strings.TrimRight(metadataURL, "/") + "/",
		TargetsURL:  targetsURL,
		MetadataDir: metadataDir,
		TargetsDir:  targetsDir,
		Fetcher:     f,
		Now:         now,
	})
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return up, cleanup, nil
}

func refreshCmd(ctx context.Context, f *client.Fetcher, now func() time.Time, metadataDir, metadataURL string) error {
	up, cleanup, err := session(ctx, f, now, metadataDir, metadataURL, "", "")
	if err != nil {
		return err
	}
	defer cleanup()
	return up.Refresh()
}

func downloadCmd(ctx context.Context, f *client.Fetcher, now func() time.Time, metadataDir, metadataURL string, names []string, baseURL, dir string) error {
	if len(names) == 0 || baseURL == "" || dir == "" {
		return errors.New("download: --target-name, --target-base-url and --target-dir are required")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	up, cleanup, err := session(ctx, f, now, metadataDir, metadataURL, baseURL, dir)
	if err != nil {
		return err
	}
	defer cleanup()
	if err := up.Refresh(); err != nil {
		return err
	}
	for _, name := range names {
		tf, err := up.TargetInfo(name)
		if err != nil {
			return err
		}
		if _, _, err := up.Download(tf); err != nil { // a verified cached copy is reused
			return err
		}
	}
	return nil
}

// stringList is a flag that may be repeated.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

// fakeNow returns the clock FAKETIME describes (see the package
// documentation), or real when it is empty.
func fakeNow(faketime string, real func() time.Time) (func() time.Time, error) {
	s := strings.TrimSpace(faketime)
	bad := fmt.Errorf("FAKETIME %q: want [@]YYYY-MM-DD HH:MM:SS or an offset such as +2d", faketime)
	if s == "" {
		return real, nil
	}
	if s[0] == '+' || s[0] == '-' {
		num, unit := s[1:], time.Second
		if n := len(num); n > 0 {
			if u, ok := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'y': 365 * 24 * time.Hour}[num[n-1]]; ok {
				num, unit = num[:n-1], u
			}
		}
		k, err := strconv.ParseFloat(num, 64)
		secs := k * unit.Seconds()
		if err != nil || math.IsNaN(secs) || math.Abs(secs) > 1e4*365*24*3600 {
			return nil, bad
		}
		off := time.Duration(secs * float64(time.Second))
		if s[0] == '-' {
			off = -off
		}
		return func() time.Time { return real().Add(off) }, nil
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05.999999999", strings.TrimPrefix(s, "@"), time.Local)
	if err != nil {
		return nil, bad
	}
	return func() time.Time { return t }, nil
}
