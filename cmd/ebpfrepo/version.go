package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func init() { registerCommand(newVersionCmd) }

// commit is set at link time by make build (-X main.commit=…), for
// builds where the toolchain records no VCS information (-buildvcs=false).
var commit string

// versionString is the module version and the commit the binary was
// built from (with "+dirty" for uncommitted changes), as the Go toolchain
// recorded them.
func versionString() string {
	v, rev, dirty := "(devel)", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if rev == "" {
		rev = commit
	}
	if rev != "" {
		v += " commit " + rev[:min(len(rev), 12)]
		if dirty {
			v += "+dirty"
		}
	}
	return v + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}

func newVersionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and commit of this binary",
		Args:  argsBetween(0, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if g.JSON {
				return writeJSON(g.Stdout, map[string]string{"version": versionString()})
			}
			fmt.Fprintf(g.Stdout, "ebpfrepo %s\n", versionString())
			return nil
		},
	}
}
