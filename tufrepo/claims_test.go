package tufrepo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/google/go-cmp/cmp"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// publisherKey returns a signer and its TUF public key from the pool.
func publisherKey(t testing.TB, i int) (signature.Signer, *metadata.Key) {
	t.Helper()
	k := poolKey(t, i)
	s, err := signature.LoadED25519Signer(k.Private)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := k.TUFKey()
	if err != nil {
		t.Fatal(err)
	}
	return s, tk
}

// claimedRepo is a repository where publisher acme (keys 10, 11,
// threshold th) holds package "rl"; it returns the repo and keyring.
func claimedRepo(t *testing.T, th int) (*Repo, *Keyring) {
	t.Helper()
	kr := newKeyring(t, 1)
	r, err := Init(Options{Keys: kr, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	_, k1 := publisherKey(t, 10)
	_, k2 := publisherKey(t, 11)
	if err := r.Grant(Grant{Publisher: "acme", Keys: []*metadata.Key{k1, k2}, Threshold: th, Packages: []string{"rl"}}); err != nil {
		t.Fatal(err)
	}
	return r, kr
}

func signedRole(t *testing.T, cur []byte, targets []Target, expires time.Time, signers ...signature.Signer) []byte {
	t.Helper()
	md, err := NextPublisherRole(cur, targets, expires)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := SignRole(md, signers...)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestPublisherRoleChecks(t *testing.T) {
	s1, _ := publisherKey(t, 10)
	s2, _ := publisherKey(t, 11)
	ci, _ := publisherKey(t, 2) // the bins key: what CI holds
	rl := targetOf("rl/1.0.0/jammy/l3af_rl.tar.gz", []byte("rl 1.0.0"))
	year := testNow.Add(365 * 24 * time.Hour)
	tests := []struct {
		name      string
		th        int
		publisher string
		raw       func(r *Repo) []byte
		want      error
	}{
		{"good, one of one", 1, "acme", func(*Repo) []byte { return signedRole(t, nil, []Target{rl}, year, s1) }, nil},
		{"good, two of two", 2, "acme", func(*Repo) []byte { return signedRole(t, nil, []Target{rl}, year, s1, s2) }, nil},
		{"not granted", 1, "mallory", func(*Repo) []byte { return signedRole(t, nil, []Target{rl}, year, s1) }, ErrNotGranted},
		{"signed by CI's key", 1, "acme", func(*Repo) []byte { return signedRole(t, nil, []Target{rl}, year, ci) }, ErrBadSignature},
		{"threshold 2, one signature", 2, "acme", func(*Repo) []byte { return signedRole(t, nil, []Target{rl}, year, s1) }, ErrBadSignature},
		{"expired", 1, "acme", func(*Repo) []byte { return signedRole(t, nil, []Target{rl}, testNow.Add(-time.Hour), s1) }, ErrRoleExpired},
		{"outside the grant", 1, "acme", func(*Repo) []byte {
			return signedRole(t, nil, []Target{rl, targetOf("other/1.0.0/jammy/x.tar.gz", []byte("x"))}, year, s1)
		}, ErrOutsideGrant},
		{"index files are the repository's", 1, "acme", func(*Repo) []byte {
			return signedRole(t, nil, []Target{targetOf("index/rl.json", []byte("{}"))}, year, s1)
		}, ErrOutsideGrant},
		{"rollback", 1, "acme", func(r *Repo) []byte {
			v1 := signedRole(t, nil, []Target{rl}, year, s1)
			if _, err := r.AcceptPublisherRole("acme", v1); err != nil {
				t.Fatal(err)
			}
			return v1 // the same version again
		}, ErrRollback},
		{"history rewritten", 1, "acme", func(r *Repo) []byte {
			if _, err := r.AcceptPublisherRole("acme", signedRole(t, nil, []Target{rl}, year, s1)); err != nil {
				t.Fatal(err)
			}
			md, _ := NextPublisherRole(nil, []Target{targetOf("rl/1.1.0/jammy/l3af_rl.tar.gz", []byte("rl 1.1.0"))}, year)
			md.Signed.Version = 2 // drops 1.0.0
			raw, _ := SignRole(md, s1)
			return raw
		}, ErrHistoryChanged},
		{"not metadata", 1, "acme", func(*Repo) []byte { return []byte("<html>") }, ErrRoleNotTargets},
		{"delegates further", 1, "acme", func(*Repo) []byte {
			md, _ := NextPublisherRole(nil, []Target{rl}, year)
			md.Signed.Delegations = &metadata.Delegations{Keys: map[string]*metadata.Key{}, Roles: []metadata.DelegatedRole{}}
			raw, _ := SignRole(md, s1)
			return raw
		}, ErrRoleDelegates},
		{"a second hash", 1, "acme", func(*Repo) []byte {
			md, _ := NextPublisherRole(nil, []Target{rl}, year)
			md.Signed.Targets[rl.Path].Hashes["sha512"] = make([]byte, 64)
			raw, _ := SignRole(md, s1)
			return raw
		}, ErrRoleHashesExtra},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := claimedRepo(t, tc.th)
			raw := tc.raw(r)
			before := filesOf(t, r)
			_, err := r.AcceptPublisherRole(tc.publisher, raw)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("accept: %v", err)
				}
				return
			}
			var pe *PublisherRoleError
			if !errors.Is(err, tc.want) || !errors.As(err, &pe) || pe.Publisher != tc.publisher {
				t.Fatalf("got %v, want a *PublisherRoleError naming %s that wraps %v", err, tc.publisher, tc.want)
			}
			if len(filesOf(t, r)) != len(before) {
				t.Error("a refused role changed the repository")
			}
		})
	}
}

// TestUpdateTargetListedTwice: a path listed twice is refused by Update,
// whether it goes in a bin or its publisher's role lists it, and nothing
// is re-signed.
func TestUpdateTargetListedTwice(t *testing.T) {
	ctx := context.Background()
	r, kr := claimedRepo(t, 1)
	s1, _ := publisherKey(t, 10)
	rl := targetOf("rl/1.0.0/jammy/l3af_rl.tar.gz", []byte("rl 1.0.0"))
	if _, err := r.AcceptPublisherRole("acme", signedRole(t, nil, []Target{rl}, testNow.Add(24*time.Hour*365), s1)); err != nil {
		t.Fatal(err)
	}
	free := targetOf("free/1.0.0/jammy/l3af_free.tar.gz", []byte("free"))
	other := targetOf("free/1.0.0/noble/l3af_free.tar.gz", []byte("free"))
	before := filesOf(t, r)
	for name, targets := range map[string][]Target{
		"in a bin":            {free, other, free},
		"in a bin, other len": {free, other, targetOf(free.Path, []byte("other bytes"))},
		"claimed":             {rl, free, rl},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := r.with(kr, Config{}, testNow).Update(ctx, targets)
			var te *TargetError
			if !errors.As(err, &te) || te.Path != targets[2].Path || te.Field != "path" || te.Msg != "listed twice" {
				t.Fatalf("got %v, want a TargetError: %s listed twice", err, targets[2].Path)
			}
			if diff := cmp.Diff(before, filesOf(t, r)); diff != "" {
				t.Errorf("metadata changed by a refused Update (-before +after):\n%s", diff)
			}
		})
	}
}

func TestClaimedTargetsStayOutOfBins(t *testing.T) {
	ctx := context.Background()
	r, kr := claimedRepo(t, 1)
	s1, _ := publisherKey(t, 10)
	rlBytes := []byte("rl 1.0.0 as the author built it")
	rl := targetOf("rl/1.0.0/jammy/l3af_rl.tar.gz", rlBytes)
	free := targetOf("free/1.0.0/jammy/l3af_free.tar.gz", []byte("free"))
	idx := targetOf("index/rl.json", []byte("{}"))

	// Without the author's role the claimed artifact is refused.
	_, err := r.with(kr, Config{}, testNow).Update(ctx, []Target{rl, free, idx})
	if !errors.Is(err, ErrTargetMissing) {
		t.Fatalf("claimed target without its role: got %v, want ErrTargetMissing", err)
	}
	if _, err := r.AcceptPublisherRole("acme", signedRole(t, nil, []Target{rl}, testNow.Add(24*time.Hour*365), s1)); err != nil {
		t.Fatal(err)
	}
	// Other bytes than the author signed are refused.
	forged := targetOf(rl.Path, []byte("forged by CI"))
	if _, err := r.with(kr, Config{}, testNow).Update(ctx, []Target{forged, free, idx}); !errors.Is(err, ErrTargetMismatch) {
		t.Fatalf("claimed target with other bytes: got %v, want ErrTargetMismatch", err)
	}
	res, err := r.with(kr, Config{}, testNow).Update(ctx, []Target{rl, free, idx})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(res.Changed, RoleTargets) {
		t.Errorf("an Update re-signed targets (offline): %v", res.Changed)
	}
	for n, b := range r.bins {
		md, _ := b.parse()
		if _, ok := md.Signed.Targets[rl.Path]; ok {
			t.Errorf("%s lists the claimed target", n)
		}
	}

	// A client finds the author's bytes; a forged copy a CI key holder
	// puts in the bin is never consulted (pub-acme is terminating).
	binName := r.succinct().GetRolesForTarget(rl.Path)[0].Name
	bin, _ := r.bins[binName].parse()
	ft := forged
	bin.Signed.Targets[ft.Path], _ = metadata.TargetFile().FromBytes(ft.Path, []byte("forged by CI"))
	bin.Signed.Version++
	// And a version the author never signed, in its own bin.
	never := "rl/9.9.9/jammy/l3af_rl.tar.gz"
	neverBin := r.succinct().GetRolesForTarget(never)[0].Name
	if neverBin == binName {
		bin.Signed.Targets[never], _ = metadata.TargetFile().FromBytes(never, []byte("never signed"))
	} else {
		nb, _ := r.bins[neverBin].parse()
		nb.Signed.Targets[never], _ = metadata.TargetFile().FromBytes(never, []byte("never signed"))
		nb.Signed.Version++
		nraw, err := signBytes(nb, kr.Keys(RoleBins))
		if err != nil {
			t.Fatal(err)
		}
		r.bins[neverBin] = newBinMeta(nb, nraw)
	}
	raw, err := signBytes(bin, kr.Keys(RoleBins))
	if err != nil {
		t.Fatal(err)
	}
	r.bins[binName] = newBinMeta(bin, raw)
	if _, err := r.with(kr, Config{}, testNow).Refresh(); err != nil { // snapshot and timestamp list the forged bin
		t.Fatal(err)
	}
	s := newSite()
	s.publish(r, map[string][]byte{rl.Path: rlBytes, free.Path: []byte("free"), idx.Path: []byte("{}")})
	s.files[layout.Target(ft.Path, ft.SHA256)] = []byte("forged by CI") // served beside the author's
	srv := s.serve(t)
	up, err := newClient(t, srv, r.rootJSON(1), testNow).refresh()
	if err != nil {
		t.Fatal(err)
	}
	tf, err := up.GetTargetInfo(rl.Path)
	if err != nil {
		t.Fatal(err)
	}
	if tf.Length != rl.Length || !strings.EqualFold(hexOf(tf.Hashes["sha256"]), rl.SHA256) {
		t.Fatalf("client got target info %d %x, want the author's %d %s", tf.Length, tf.Hashes["sha256"], rl.Length, rl.SHA256)
	}
	if _, data, err := up.DownloadTarget(tf, t.TempDir()+"/rl", ""); err != nil || string(data) != string(rlBytes) {
		t.Fatalf("download: %q, %v", data, err)
	}
	if tf, err := up.GetTargetInfo(never); err == nil {
		t.Fatalf("a version only CI's bin lists resolved: %+v (pub-acme must be terminating)", tf)
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func TestGrants(t *testing.T) {
	r, kr := claimedRepo(t, 1)
	_, k3 := publisherKey(t, 12)
	for _, tc := range []struct {
		name string
		g    Grant
		want string
	}{
		{"overlap by name", Grant{Publisher: "other", Keys: []*metadata.Key{k3}, Threshold: 1, Packages: []string{"rl"}}, "overlaps"},
		{"overlap by prefix", Grant{Publisher: "other", Keys: []*metadata.Key{k3}, Threshold: 1, Packages: []string{"r*"}}, "overlaps"},
		{"bad pattern", Grant{Publisher: "other", Keys: []*metadata.Key{k3}, Threshold: 1, Packages: []string{"a/b"}}, "package pattern"},
		{"threshold", Grant{Publisher: "other", Keys: []*metadata.Key{k3}, Threshold: 2, Packages: []string{"x"}}, "threshold"},
		{"bad name", Grant{Publisher: "Other", Keys: []*metadata.Key{k3}, Threshold: 1, Packages: []string{"x"}}, "not a valid name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ge *GrantError
			if err := r.Grant(tc.g); !errors.As(err, &ge) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a *GrantError saying %q", err, tc.want)
			}
		})
	}
	if err := r.Grant(Grant{Publisher: "other", Keys: []*metadata.Key{k3}, Threshold: 1, Packages: []string{"other-*"}}); err != nil {
		t.Fatal(err)
	}
	if got := len(r.Grants()); got != 2 {
		t.Fatalf("%d grants, want 2", got)
	}
	// A grant is a signing event of targets: without its key it fails.
	r.opts.Keys = kr.With(RoleTargets)
	var mk *MissingKeyError
	if err := r.Revoke("other"); !errors.As(err, &mk) {
		t.Fatalf("revoke without the targets key: got %v, want *MissingKeyError", err)
	}
	r.opts.Keys = kr
	if err := r.Revoke("other"); err != nil {
		t.Fatal(err)
	}
	if g, ok := r.ClaimOf("other-x"); ok {
		t.Errorf("revoked grant still claims: %+v", g)
	}
}

// TestEveryRoleHasOneDelegator guards against go-tuf issue #759: go-tuf
// v2.4.2 caches delegated metadata by role name without re-checking it
// against the delegator, so no role may be delegated twice.
func TestEveryRoleHasOneDelegator(t *testing.T) {
	r, kr := claimedRepo(t, 1)
	_, k3 := publisherKey(t, 12)
	if err := r.Grant(Grant{Publisher: "b", Keys: []*metadata.Key{k3}, Threshold: 1, Packages: []string{"b-*", "bee"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.with(kr, Config{BinBits: 3}, testNow).Update(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	add := func(role, by string) {
		if prev, dup := seen[role]; dup {
			t.Errorf("role %s is delegated by both %s and %s", role, prev, by)
		}
		seen[role] = by
	}
	for _, dr := range r.targets.md.Signed.Delegations.Roles {
		add(dr.Name, RoleTargets)
	}
	for _, n := range r.unclaimed.md.Signed.Delegations.SuccinctRoles.GetRoles() {
		add(n, RoleUnclaimed)
	}
	if r.unclaimed.md.Signed.Delegations.Roles != nil || r.targets.md.Signed.Delegations.SuccinctRoles != nil {
		t.Error("a delegation holds both roles and succinct roles")
	}
	for _, top := range []string{RoleRoot, RoleTargets, RoleSnapshot, RoleTimestamp} {
		if _, ok := seen[top]; ok {
			t.Errorf("top-level role %s is also delegated", top)
		}
	}
}

func TestTargetsRenewalNeedsOfflineKey(t *testing.T) {
	r, kr := updatedRepoCfg(t)
	online := kr.With(RoleTargets) // CI: everything but the targets key
	// Past half its validity: a warning, not a failure.
	res, err := r.with(online, Config{}, testNow.Add(DefaultTargetsExpiry*3/4)).Update(context.Background(), nil)
	if err != nil {
		t.Fatalf("stale targets without its key: %v", err)
	}
	if !slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, "targets version") }) {
		t.Errorf("warnings %q: want one about renewing targets", res.Warnings)
	}
	// Past its expiry: an error.
	if _, err := r.with(online, Config{}, testNow.Add(DefaultTargetsExpiry+time.Hour)).Update(context.Background(), nil); err == nil {
		t.Fatal("expired targets without its key: no error")
	}
}

func updatedRepoCfg(t *testing.T) (*Repo, *Keyring) {
	t.Helper()
	kr := newKeyring(t, 1)
	r, err := Init(Options{Keys: kr, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	return r, kr
}

func TestLoadClaimsIsReadOnly(t *testing.T) {
	r, kr := claimedRepo(t, 1)
	if _, err := r.with(kr, Config{}, testNow).Update(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := r.Save(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	c, err := LoadClaims(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if g, ok := c.ClaimOf("rl"); !ok || g.Publisher != "acme" {
		t.Errorf("ClaimOf(rl) = %+v, %v", g, ok)
	}
	if err := c.Save(context.Background(), t.TempDir()); err == nil {
		t.Error("Save of a LoadClaims repository succeeded")
	}
	if _, err := c.Update(context.Background(), nil); err == nil {
		t.Error("Update of a LoadClaims repository succeeded")
	}
}

// FuzzVerifyPublisherRole: a role file from a stranger never panics the
// verifier, and only a file the granted key signed is accepted.
func FuzzVerifyPublisherRole(f *testing.F) {
	r, _ := claimedRepoF(f)
	s1, _ := publisherKey(f, 10)
	md, _ := NextPublisherRole(nil, []Target{targetOf("rl/1.0.0/jammy/l3af_rl.tar.gz", []byte("x"))}, testNow.Add(24*time.Hour))
	good, _ := SignRole(md, s1)
	f.Add(good)
	f.Add([]byte(`{"signed":{"_type":"targets"},"signatures":[]}`))
	f.Add([]byte("{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pr, err := r.VerifyPublisherRole("acme", data)
		if err == nil && pr == nil {
			t.Fatal("nil role without an error")
		}
		if err == nil && string(data) != string(good) {
			// Accepting other bytes is only right if acme's key signed
			// them: check the signature independently.
			m, perr := new(metadata.Metadata[metadata.TargetsType]).FromBytes(data)
			if perr != nil || r.targets.md.VerifyDelegate("pub-acme", m) != nil {
				t.Fatalf("accepted a role acme did not sign: %q", data)
			}
		}
	})
}

func claimedRepoF(tb testing.TB) (*Repo, *Keyring) {
	tb.Helper()
	kr := newKeyring(tb, 1)
	r, err := Init(Options{Keys: kr, Now: testNow})
	if err != nil {
		tb.Fatal(err)
	}
	_, k1 := publisherKey(tb, 10)
	if err := r.Grant(Grant{Publisher: "acme", Keys: []*metadata.Key{k1}, Threshold: 1, Packages: []string{"rl"}}); err != nil {
		tb.Fatal(err)
	}
	return r, kr
}

func TestLoadSignerAndPublicKey(t *testing.T) {
	dir := t.TempDir()
	k := poolKey(t, 10)
	priv := filepath.Join(dir, "k.pem")
	if err := k.WriteFile(priv); err != nil {
		t.Fatal(err)
	}
	pubPEM, _ := k.PublicPEM()
	pub := filepath.Join(dir, "k.pub.pem")
	os.WriteFile(pub, pubPEM, 0o644)
	if _, err := LoadSigner(priv); err != nil {
		t.Fatalf("LoadSigner: %v", err)
	}
	if _, err := LoadPublicKey(pub); err != nil {
		t.Fatalf("LoadPublicKey: %v", err)
	}
	privBytes, _ := os.ReadFile(priv)
	for _, tc := range []struct {
		name, data string
		mode       os.FileMode
		load       func(string) error
		want       string
	}{
		{"private key readable by others", string(privBytes), 0o644, func(p string) error { _, err := LoadSigner(p); return err }, "chmod 600"},
		{"public key given as private", string(pubPEM), 0o600, func(p string) error { _, err := LoadSigner(p); return err }, "PRIVATE KEY"},
		{"private key given as public", string(privBytes), 0o600, func(p string) error { _, err := LoadPublicKey(p); return err }, "PUBLIC KEY"},
		{"trailing data", string(pubPEM) + "junk", 0o644, func(p string) error { _, err := LoadPublicKey(p); return err }, "want one PEM"},
		{"not PEM", "hello", 0o600, func(p string) error { _, err := LoadSigner(p); return err }, "want one PEM"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "key")
			os.WriteFile(p, []byte(tc.data), tc.mode)
			os.Chmod(p, tc.mode)
			var ke *KeyError
			if err := tc.load(p); !errors.As(err, &ke) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a *KeyError saying %q", err, tc.want)
			}
		})
	}
}

// TestTopTargets: files listed by the top-level targets role survive a
// grant and a build's Update, and only a signing event changes them.
func TestTopTargets(t *testing.T) {
	r, _ := claimedRepo(t, 1)
	pub := Target{Path: "keyless/publishers.json", Length: 3, SHA256: strings.Repeat("ab", 32)}
	if err := r.SetTopTargets([]Target{pub}); err != nil {
		t.Fatal(err)
	}
	if err := r.SetTopTargets([]Target{{Path: "a/b/c/d", Length: 1, SHA256: pub.SHA256}}); err == nil {
		t.Error("a path the delegations cover was accepted")
	}
	if _, err := r.Update(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Target{pub}, r.TopTargets()); diff != "" {
		t.Errorf("after Update (-want +got):\n%s", diff)
	}
	if err := r.SetTopTargets([]Target{{Path: pub.Path, Length: -1}}); err != nil {
		t.Fatal(err)
	}
	if got := r.TopTargets(); len(got) != 0 {
		t.Errorf("after removal: %v", got)
	}
}
