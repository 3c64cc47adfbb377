package client

import (
	"testing"

	"github.com/ebpfrepo/ebpfrepo/client/clienttest"
)

type fixture = clienttest.Repo

const fixtureBits = clienttest.Bits

func demo(t testing.TB) *fixture { return clienttest.Demo(t) }

func newFixture(t *testing.T) *fixture { return clienttest.New(t) }

func newTestClient(t *testing.T, repoURL string, root []byte, mod ...func(*Options)) *Client {
	t.Helper()
	o := Options{RepoURL: repoURL, TrustedRoot: root, CacheDir: t.TempDir(), Retries: -1}
	for _, m := range mod {
		m(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
