package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestWorkflowCommands: every ebpfrepo command the GitHub Pages workflow
// (docs/examples/github-pages.yml) runs exists, with the flags it uses.
func TestWorkflowCommands(t *testing.T) {
	data, err := os.ReadFile("../../docs/examples/github-pages.yml")
	if err != nil {
		t.Fatal(err)
	}
	root := newRootCmd(&globals{})
	calls := regexp.MustCompile(`(?m)^\s*ebpfrepo (.*)$`).FindAllStringSubmatch(string(data), -1)
	if len(calls) < 3 {
		t.Fatalf("found %d ebpfrepo commands in the workflow", len(calls))
	}
	for _, c := range calls {
		words := strings.Fields(c[1])
		cmd, rest, err := root.Find(words)
		if err != nil || cmd == root {
			t.Errorf("workflow runs %q: no such command", c[1])
			continue
		}
		for _, w := range rest {
			if name, ok := strings.CutPrefix(w, "--"); ok {
				if cmd.Flags().Lookup(strings.SplitN(name, "=", 2)[0]) == nil && root.PersistentFlags().Lookup(name) == nil {
					t.Errorf("workflow runs %q: %s has no flag --%s", c[1], cmd.Name(), name)
				}
			}
		}
	}
}
