package repo

import (
	"context"
	"os"
	"testing"
)

func TestZZProfile(t *testing.T) {
	dir := os.Getenv("PROF_REPO")
	if dir == "" {
		t.Skip()
	}
	os.RemoveAll(dir + "/.cache")
	r, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Build(context.Background(), BuildOptions{OutDir: dir + "-out"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res.Phases)
}
