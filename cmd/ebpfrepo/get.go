package main

import (
	"errors"
	"fmt"

	"github.com/ebpfrepo/ebpfrepo/client"
	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/spf13/cobra"
)

func init() { registerCommand(newGetCmd) }

func newGetCmd(g *globals) *cobra.Command {
	var (
		cf       consumerFlags
		platform string
		out      string
	)
	cmd := &cobra.Command{
		Use:   "get --repo URL --root ROOT.json NAME[@CONSTRAINT] [--platform P] [-o DIR]",
		Short: "Resolve and download one package, verified through TUF",
		Long: `Resolve NAME[@CONSTRAINT] (an exact version, a range such as ^1.2, ~1.2 or
">=1.0 <2", or latest) for a platform and download its artifact into DIR,
verifying every byte against the repository's signed metadata. The artifact
is written atomically; on any failure nothing is written.`,
		Args: argsBetween(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, constraint, err := parseSelector(args[0])
			if err != nil {
				return err
			}
			fromHost := platform == ""
			if platform == "" {
				if platform = client.HostPlatform(); platform == "" {
					return usagef("--platform: cannot tell this host's codename from /etc/os-release; name one (jammy, noble, Windows, …)")
				}
			}
			c, err := cf.newClient(name)
			if err != nil {
				return err
			}
			ctx, cancel := cf.context(cmd)
			defer cancel()
			rel, err := c.Resolve(ctx, name, constraint, platform)
			var pe *index.PlatformError
			if errors.As(err, &pe) && fromHost {
				return consumerFail(fmt.Errorf("%w; %q is this host's codename (/etc/os-release): name the platform to fetch with --platform", err, platform))
			}
			if err != nil {
				return consumerFail(err)
			}
			path, err := c.Fetch(ctx, rel, out)
			if err != nil {
				return consumerFail(err)
			}
			signer, err := c.SignerOf(ctx, rel)
			if err != nil {
				return consumerFail(err)
			}
			if g.JSON {
				return writeJSON(g.Stdout, struct {
					Name     string `json:"name"`
					Version  string `json:"version"`
					Platform string `json:"platform"`
					Path     string `json:"path"`
					Length   int64  `json:"length"`
					SHA256   string `json:"sha256"`
					Yanked   bool   `json:"yanked"`
					Signer   any    `json:"signer"`
				}{rel.Name, rel.Version, rel.Platform, path, rel.Length, rel.SHA256, rel.Yanked != nil, signer})
			}
			if rel.Yanked != nil {
				fmt.Fprintf(g.Stderr, "warning: %s@%s is yanked: %s\n", rel.Name, rel.Version, rel.Yanked.Reason)
			}
			fmt.Fprintf(g.Stderr, "%s@%s: %s\n", rel.Name, rel.Version, signerText(signer))
			fmt.Fprintln(g.Stdout, path)
			return nil
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&platform, "platform", "", "platform path segment (default: this host's codename, as lsb_release -cs)")
	cmd.Flags().StringVarP(&out, "output", "o", ".", "directory to write the artifact into")
	return cmd
}
