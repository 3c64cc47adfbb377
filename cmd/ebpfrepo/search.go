package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func init() { registerCommand(newSearchCmd) }

func newSearchCmd(g *globals) *cobra.Command {
	var cf consumerFlags
	cmd := &cobra.Command{
		Use:   "search --repo URL --root ROOT.json [TERM]",
		Short: "List the packages whose name, description or keywords match TERM",
		Args:  argsBetween(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			term := ""
			if len(args) == 1 {
				term = args[0]
			}
			c, err := cf.newClient()
			if err != nil {
				return err
			}
			ctx, cancel := cf.context(cmd)
			defer cancel()
			res, err := c.Search(ctx, term)
			if err != nil {
				return consumerFail(err)
			}
			if g.JSON {
				return writeJSON(g.Stdout, res)
			}
			if len(res) == 0 {
				fmt.Fprintf(g.Stderr, "no package matches %q (search looks in names, descriptions, keywords and program types)\n", term)
				return nil
			}
			tw := tabwriter.NewWriter(g.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tLATEST\tPLATFORMS\tDESCRIPTION")
			for _, p := range res {
				latest := p.Latest
				if latest == "" {
					latest = "none (" + p.Featured + ")" // no stable version: only pre-releases or yanked ones
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Name, latest, strings.Join(p.Platforms, ","), p.Description)
			}
			return tw.Flush()
		},
	}
	cf.register(cmd)
	return cmd
}
