package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/spf13/cobra"
)

func init() { registerCommand(newInfoCmd) }

func newInfoCmd(g *globals) *cobra.Command {
	var cf consumerFlags
	cmd := &cobra.Command{
		Use:   "info --repo URL --root ROOT.json NAME",
		Short: "Show a package's versions, platforms, programs, yanked state and signing roles",
		Args:  argsBetween(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.newClient()
			if err != nil {
				return err
			}
			ctx, cancel := cf.context(cmd)
			defer cancel()
			p, err := c.Info(ctx, args[0])
			if err != nil {
				return consumerFail(err)
			}
			targets := []string{layout.PackageIndexTarget(p.Name)}
			for _, v := range p.Versions {
				for _, a := range v.Artifacts {
					targets = append(targets, a.Path)
				}
			}
			roles, err := c.Roles(ctx, targets...)
			if err != nil {
				return consumerFail(err)
			}
			if g.JSON {
				return writeJSON(g.Stdout, struct {
					Package *index.Package   `json:"package"`
					Signing []index.RoleInfo `json:"signing"`
				}{p, roles})
			}
			return printInfo(g, p, roles)
		},
	}
	cf.register(cmd)
	return cmd
}

func printInfo(g *globals, p *index.Package, roles []index.RoleInfo) error {
	w := g.Stdout
	fmt.Fprintf(w, "%s\n", p.Name)
	if l := p.Featured(); l != nil {
		m := l.Description.Manifest
		latest := l.Version
		if p.Latest() == nil {
			latest = "none (no stable version; newest: " + l.Version + ")"
		}
		fmt.Fprintf(w, "  latest:      %s\n  description: %s\n  license:     %s\n", latest, m.Description, m.License)
		if m.Source != "" {
			fmt.Fprintf(w, "  source:      %s\n", m.Source)
		}
	}
	fmt.Fprintln(w, "\nversions:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  VERSION\tADDED\tPLATFORMS\tSTATE\tSIGNED BY")
	for _, v := range p.Versions {
		state := "ok"
		switch {
		case v.Yanked != nil:
			state = "yanked: " + v.Yanked.Reason
		case v.IsPrerelease():
			state = "pre-release"
		}
		signed := "—"
		if s := v.Signatures; s != nil {
			signed = "repository"
			if s.Package.Signer == index.SignerPublisher {
				signed = "publisher " + s.Package.Publisher
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", v.Version, v.Added.Format(time.DateOnly), strings.Join(v.Platforms(), ","), state, signed)
	}
	tw.Flush()
	if v := p.Featured(); v != nil {
		fmt.Fprintf(w, "\nprograms (%s):\n", v.Version)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  NAME\tTYPE\tOBJECT\tCHAINING\tMAP")
		for _, pr := range v.Description.Manifest.Programs {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", pr.Name, pr.Type, pr.Object, pr.Chaining, pr.MapName)
		}
		tw.Flush()
		if a := v.Description.Manifest.Artifact; a != "" {
			fmt.Fprintf(w, "  artifact: %s\n", a)
		}
	}
	fmt.Fprintln(w, "\nsigned by (verified):")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  ROLE\tVERSION\tEXPIRES\tTHRESHOLD\tKEYS")
	for _, r := range roles {
		keys := make([]string, len(r.KeyIDs))
		for i, k := range r.KeyIDs {
			keys[i] = k[:min(len(k), 12)]
		}
		fmt.Fprintf(tw, "  %s\t%d\t%s\t%d\t%s\n", r.Name, r.Version, r.Expires.UTC().Format(time.RFC3339), r.Threshold, strings.Join(keys, ","))
	}
	return tw.Flush()
}
