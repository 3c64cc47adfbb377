package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestCLIConventions runs every command with a flag it does not have, and
// every command that takes arguments without them: each is a usage error
// (exit 2) with a one-line message. Parent commands refuse an unknown
// subcommand the same way, and so does the root an unknown command.
func TestCLIConventions(t *testing.T) {
	root := newRootCmd(&globals{})
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			p := append(append([]string{}, path...), sub.Name())
			if sub.HasSubCommands() {
				t.Run(strings.Join(p, " ")+" nosuch", func(t *testing.T) { wantUsage(t, append(p, "nosuch")...) })
				walk(sub, p)
				continue
			}
			t.Run(strings.Join(p, " ")+" --no-such-flag", func(t *testing.T) { wantUsage(t, append(p, "--no-such-flag")...) })
			if sub.Args != nil && sub.Args(sub, nil) != nil {
				t.Run(strings.Join(p, " ")+" (no arguments)", func(t *testing.T) { wantUsage(t, p...) })
			}
		}
	}
	walk(root, nil)
	t.Run("unknown command", func(t *testing.T) {
		_, errOut, _ := runCmd(t, "biuld")
		wantUsage(t, "biuld")
		if !strings.Contains(errOut, "build") {
			t.Errorf("no suggestion: %q", errOut)
		}
	})
	t.Run("version", func(t *testing.T) {
		for _, args := range [][]string{{"version"}, {"--version"}} {
			out, _, code := runCmd(t, args...)
			if code != 0 || !strings.HasPrefix(out, "ebpfrepo ") {
				t.Errorf("%q: exit %d, %q", args, code, out)
			}
		}
	})
}

func wantUsage(t *testing.T, args ...string) {
	t.Helper()
	_, errOut, code := runCmd(t, args...)
	if code != 2 {
		t.Fatalf("%q: exit %d, want 2 (usage error): %s", args, code, errOut)
	}
	if first, _, _ := strings.Cut(strings.TrimSpace(errOut), "\n"); first == "" {
		t.Errorf("%q: no message", args)
	}
}
