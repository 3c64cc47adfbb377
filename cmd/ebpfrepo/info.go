package main

import (
	"fmt"
	"path"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ebpfrepo/ebpfrepo/client"
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
			// What a keyless publisher's bundle proves is verified here,
			// offline, not taken from the index.
			var ks *index.KeylessSignature
			if v := p.Featured(); v != nil && len(v.Artifacts) > 0 {
				a := v.Artifacts[0]
				sig, err := c.SignerOf(ctx, client.Release{Name: p.Name, Version: v.Version, Platform: a.Platform, Artifact: path.Base(a.Path), TargetPath: a.Path})
				if err != nil {
					return consumerFail(err)
				}
				ks = sig.Keyless
			}
			if g.JSON {
				return writeJSON(g.Stdout, struct {
					Package *index.Package          `json:"package"`
					Signing []index.RoleInfo        `json:"signing"`
					Keyless *index.KeylessSignature `json:"keyless,omitempty"`
				}{p, roles, ks})
			}
			if err := printInfo(g, p, roles); err != nil {
				return err
			}
			if ks != nil {
				printKeyless(g, p.Featured().Version, ks)
			}
			return nil
		},
	}
	cf.register(cmd)
	return cmd
}

func printInfo(g *globals, p *index.Package, roles []index.RoleInfo) error {
	w := g.Stdout
	fmt.Fprintf(w, "%s\n", p.Name)
	if l := p.Featured(); l != nil {
		m := l.Describe().Manifest
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
				if s.Package.Keyless != nil {
					signed += " (keyless)"
				}
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", v.Version, v.Added.Format(time.DateOnly), strings.Join(v.Platforms(), ","), state, signed)
	}
	tw.Flush()
	if v := p.Featured(); v != nil {
		fmt.Fprintf(w, "\nprograms (%s):\n", v.Version)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  NAME\tTYPE\tOBJECT\tCHAINING\tMAP")
		for _, pr := range v.Describe().Manifest.Programs {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", pr.Name, pr.Type, pr.Object, pr.Chaining, pr.MapName)
		}
		tw.Flush()
		if a := v.Describe().Manifest.Artifact; a != "" {
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

// printKeyless shows who a keyless publisher's bundle says signed a
// version, as the client verified it.
func printKeyless(g *globals, version string, k *index.KeylessSignature) {
	w := g.Stdout
	fmt.Fprintf(w, "\nkeyless signature of %s (Sigstore bundle, verified offline against the repository's trusted root):\n", version)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, kv := range [][2]string{{"publisher", k.Publisher}, {"identity", k.Identity}, {"issuer", k.Issuer}, {"repository", k.Repository},
		{"ref", k.Ref}, {"commit", k.Commit}, {"workflow", k.Workflow}, {"run", k.Run}, {"kind", k.Kind},
		{"log entry", fmt.Sprintf("%d at %s (%s)", k.LogIndex, k.IntegratedTime.UTC().Format(time.RFC3339), index.LogEntryURL(k))}} {
		if kv[1] != "" {
			fmt.Fprintf(tw, "  %s:\t%s\n", kv[0], kv[1])
		}
	}
	tw.Flush()
}
