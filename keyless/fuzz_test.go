package keyless_test

import (
	"net/http"
	"testing"

	"github.com/ebpfrepo/ebpfrepo/internal/sigstoretest"
	"github.com/ebpfrepo/ebpfrepo/keyless"
)

// FuzzVerify feeds hostile bundles to Verify: it must return an error,
// never panic, and never accept what the instance did not sign.
func FuzzVerify(f *testing.F) {
	fx := newFixture(f, "fuzz")
	artifact := []byte("fuzzed artifact")
	for _, o := range []sigstoretest.Options{{}, {DSSE: true}, {NoTlog: true}} {
		b, err := fx.in.Bundle(artifact, signer, o)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`))
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"tlogEntries":[{}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := keyless.Verify(data, sum(artifact), fx.trust, grant, "fuzz@1.0.0")
		if err == nil && ev == nil {
			t.Fatal("no error and no evidence")
		}
	})
}

// FuzzParsePublishers: publishers.json from a server must parse or fail,
// and what parses must marshal and parse back to the same grants.
func FuzzParsePublishers(f *testing.F) {
	f.Add([]byte(`{"schema":1,"publishers":[{"name":"a","identities":[{"san":"x","issuer":"y"}],"packages":["p*"]}]}`))
	f.Add([]byte(`{"schema":1,"publishers":[{"name":"a","identities":[{"san_regexp":"(","issuer":"y"}],"packages":["p"]}]}`))
	f.Add([]byte(`{"schema":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := keyless.ParsePublishers(data)
		if err != nil {
			return
		}
		out, err := ps.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		again, err := keyless.ParsePublishers(out)
		if err != nil {
			t.Fatalf("canonical form does not parse: %v\n%s", err, out)
		}
		out2, _ := again.Marshal()
		if string(out) != string(out2) {
			t.Fatalf("not stable:\n%s\n%s", out, out2)
		}
	})
}

type noNetwork struct{ t *testing.T }

func (n noNetwork) RoundTrip(r *http.Request) (*http.Response, error) {
	n.t.Errorf("verification made a request: %s %s", r.Method, r.URL)
	return nil, http.ErrNotSupported
}

// TestVerifyOffline: verification never touches the network (sigstore-go
// can fetch a trusted root over TUF; we never let it).
func TestVerifyOffline(t *testing.T) {
	saved := http.DefaultTransport
	http.DefaultTransport = noNetwork{t}
	defer func() { http.DefaultTransport = saved }()
	fx := newFixture(t, "offline")
	artifact := []byte("offline")
	for _, o := range []sigstoretest.Options{{}, {DSSE: true}} {
		b, err := fx.in.Bundle(artifact, signer, o)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := keyless.Verify(b, sum(artifact), fx.trust, grant, "offline@1.0.0"); err != nil {
			t.Fatal(err)
		}
	}
}
