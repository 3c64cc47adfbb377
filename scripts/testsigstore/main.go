package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ebpfrepo/ebpfrepo/internal/sigstoretest"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "testsigstore:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: testsigstore init DIR | sign DIR REPO WORKFLOW REF ARTIFACT [--dsse]")
	}
	switch args[0] {
	case "init":
		if len(args) != 2 {
			return errors.New("usage: testsigstore init DIR")
		}
		in, err := sigstoretest.New("testsigstore", time.Now().Add(-24*time.Hour))
		if err != nil {
			return err
		}
		state, err := in.Marshal()
		if err != nil {
			return err
		}
		root, err := in.TrustedRoot()
		if err != nil {
			return err
		}
		if err := os.MkdirAll(args[1], 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(args[1], "state.json"), state, 0o600); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(args[1], "trusted_root.json"), root, 0o644)
	case "sign":
		if len(args) < 6 || len(args) > 7 || len(args) == 7 && args[6] != "--dsse" {
			return errors.New("usage: testsigstore sign DIR REPO WORKFLOW REF ARTIFACT [--dsse]")
		}
		state, err := os.ReadFile(filepath.Join(args[1], "state.json"))
		if err != nil {
			return err
		}
		in, err := sigstoretest.Load(state)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(args[5])
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		s := sigstoretest.GitHubWorkflow(args[2], args[3], args[4], hex.EncodeToString(sum[:20]))
		b, err := in.Bundle(data, s, sigstoretest.Options{DSSE: len(args) == 7, SubjectName: filepath.Base(args[5])})
		if err != nil {
			return err
		}
		return os.WriteFile(args[5]+".sigstore.json", b, 0o644)
	}
	return fmt.Errorf("no such command %q", args[0])
}
