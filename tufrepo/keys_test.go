package tufrepo

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestKeyFileRoundTrip(t *testing.T) {
	k := poolKey(t, 0)
	p := filepath.Join(t.TempDir(), "timestamp.pem")
	if err := k.WriteFile(p); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(p)
	if !bytes.HasPrefix(data, []byte("-----BEGIN PRIVATE KEY-----\n")) {
		t.Errorf("file does not start with a PKCS#8 PEM block:\n%s", data)
	}
	got, err := LoadKeyFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID() != k.ID() || !got.Private.Equal(k.Private) {
		t.Error("loaded key differs")
	}
	if len(k.ID()) != 64 {
		t.Errorf("key ID %q: want 64 hex digits", k.ID())
	}
	if strings.Contains(k.String(), string(data)) || len(k.String()) > 30 {
		t.Errorf("String() = %q", k.String())
	}
	err = poolKey(t, 1).WriteFile(p)
	var ke *KeyError
	if !errors.As(err, &ke) || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Errorf("overwrite: %v", err)
	}
	if again, _ := LoadKeyFile(p); again == nil || again.ID() != k.ID() {
		t.Error("refused overwrite changed the file")
	}
}

func TestLoadKeyFileRefusesOpenModes(t *testing.T) {
	dir := t.TempDir()
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644, 0o660, 0o602} {
		p := filepath.Join(dir, "k.pem")
		os.Remove(p)
		if err := poolKey(t, 0).WriteFile(p); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		_, err := LoadKeyFile(p)
		if err == nil || !strings.Contains(err.Error(), "chmod 600 "+p) {
			t.Errorf("mode %04o: %v, want an error telling to chmod 600", mode, err)
		}
	}
	for _, mode := range []os.FileMode{0o400, 0o600} {
		p := filepath.Join(dir, "k.pem")
		os.Chmod(p, mode)
		if _, err := LoadKeyFile(p); err != nil {
			t.Errorf("mode %04o: %v", mode, err)
		}
	}
	if _, err := LoadKeyFile(dir); err == nil {
		t.Error("directory accepted as key file")
	}
}

func TestParseKeyRejects(t *testing.T) {
	good, _ := poolKey(t, 0).PEM()
	tests := map[string][]byte{
		"empty":          nil,
		"garbage":        []byte("hello"),
		"wrong type":     bytes.Replace(good, []byte("PRIVATE KEY"), []byte("EC PRIVATE KEY"), 2),
		"trailing data":  append(append([]byte{}, good...), "junk"...),
		"two blocks":     append(append([]byte{}, good...), good...),
		"corrupt der":    bytes.Replace(good, []byte("MC4CAQAw"), []byte("MC4CAQAx"), 1),
		"too big":        bytes.Repeat([]byte(" "), maxKeyFile+1),
		"encrypted hdrs": bytes.Replace(good, []byte("-----\n"), []byte("-----\nProc-Type: 4,ENCRYPTED\n\n"), 1),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			if k, err := ParseKey(data); err == nil {
				t.Errorf("accepted: %v", k)
			}
		})
	}
	if ks, err := ParseKeys(append(append([]byte{}, good...), good...)); err != nil || len(ks) != 2 {
		t.Errorf("ParseKeys(two blocks) = %d keys, %v", len(ks), err)
	}
}

func TestOpenSSLCompatible(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "gen.pem")
	if out, err := exec.Command(openssl, "genpkey", "-algorithm", "ed25519", "-out", p).CombinedOutput(); err != nil {
		t.Skipf("openssl genpkey ed25519: %v: %s", err, out)
	}
	os.Chmod(p, 0o600)
	k, err := LoadKeyFile(p)
	if err != nil {
		t.Fatalf("key from openssl: %v", err)
	}
	ours := filepath.Join(dir, "ours.pem")
	if err := k.WriteFile(ours); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(p)
	b, _ := os.ReadFile(ours)
	if diff := cmp.Diff(string(a), string(b)); diff != "" {
		t.Errorf("re-encoded key differs from openssl's (-openssl +ours):\n%s", diff)
	}
	if out, err := exec.Command(openssl, "pkey", "-in", ours, "-noout").CombinedOutput(); err != nil {
		t.Errorf("openssl cannot read our key: %v: %s", err, out)
	}
}

func TestLoadKeyring(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, k *Key) {
		if err := k.WriteFile(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	write("root.pem", poolKey(t, 0))
	write("root-10.pem", poolKey(t, 2))
	write("root-2.pem", poolKey(t, 1))
	write("root-x.pem", poolKey(t, 9)) // not a root key name: ignored
	write("targets.pem", poolKey(t, 3))
	write("snapshot.pem", poolKey(t, 4))
	envKey, _ := poolKey(t, 5).PEM()
	t.Setenv(EnvVar(RoleTimestamp), string(envKey))
	t.Setenv(EnvVar(RoleSnapshot), "")     // empty: the file counts
	t.Setenv(EnvVar(RoleBins), "")         // none anywhere
	t.Setenv(EnvVar(RoleRoot), "")         // files
	t.Setenv(EnvVar(RoleTargets), "\n\n ") // blank: the file counts
	kr, err := LoadKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		RoleRoot:      {poolKey(t, 0).ID(), poolKey(t, 1).ID(), poolKey(t, 2).ID()},
		RoleTargets:   {poolKey(t, 3).ID()},
		RoleSnapshot:  {poolKey(t, 4).ID()},
		RoleTimestamp: {poolKey(t, 5).ID()},
		RoleBins:      {},
	}
	for role, ids := range want {
		if diff := cmp.Diff(ids, idsOf(kr.Keys(role))); diff != "" {
			t.Errorf("%s keys (-want +got):\n%s", role, diff)
		}
	}
	// The environment overrides a file.
	write("timestamp.pem", poolKey(t, 6))
	kr, _ = LoadKeyring(dir)
	if got := idsOf(kr.Keys(RoleTimestamp)); len(got) != 1 || got[0] != poolKey(t, 5).ID() {
		t.Errorf("env did not override the file: %v", got)
	}
	// A bad variable is an error naming it.
	t.Setenv(EnvVar(RoleSnapshot), "not a key")
	if _, err := LoadKeyring(dir); err == nil || !strings.Contains(err.Error(), "EBPFREPO_SNAPSHOT_KEY") {
		t.Errorf("bad env key: %v", err)
	}
	t.Setenv(EnvVar(RoleSnapshot), "")
	// A group-readable key file fails the whole keyring.
	os.Chmod(filepath.Join(dir, "targets.pem"), 0o644)
	if _, err := LoadKeyring(dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("open key file: %v", err)
	}
	// Environment only (CI): no directory.
	t.Setenv(EnvVar(RoleBins), string(envKey))
	kr, err = LoadKeyring(filepath.Join(dir, "missing"))
	if err != nil || len(kr.Keys(RoleBins)) != 1 || len(kr.Keys(RoleRoot)) != 0 {
		t.Errorf("env-only keyring: %v", err)
	}
}

func idsOf(ks []*Key) []string {
	out := []string{}
	for _, k := range ks {
		out = append(out, k.ID())
	}
	return out
}

func TestMissingKeyErrorNamesFileAndVariable(t *testing.T) {
	t.Setenv(EnvVar(RoleSnapshot), "")
	dir := t.TempDir()
	kr, err := LoadKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Init(Options{Keys: kr, Config: Config{}, Now: testNow})
	var mk *MissingKeyError
	if !errors.As(err, &mk) {
		t.Fatalf("Init without keys: %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"root", filepath.Join(dir, "root.pem"), "EBPFREPO_ROOT_KEY"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	// A foreign key for the role is named as such.
	full := newKeyring(t, 1)
	r, err := Init(Options{Keys: full, Config: Config{}, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	err = r.with(full.With(RoleTimestamp, poolKey(t, 15)), Config{}, testNow).Timestamp()
	var wk *WrongKeyError
	if !errors.As(err, &wk) || wk.Role != RoleTimestamp {
		t.Errorf("foreign timestamp key: %v, want WrongKeyError", err)
	}
}

func TestCreateKeys(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	kr, err := CreateKeys(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("keys dir mode %04o, want 0700", fi.Mode().Perm())
	}
	for _, role := range KeyRoles {
		t.Setenv(EnvVar(role), "")
	}
	loaded, err := LoadKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range KeyRoles {
		if diff := cmp.Diff(idsOf(kr.Keys(role)), idsOf(loaded.Keys(role))); diff != "" {
			t.Errorf("%s (-created +loaded):\n%s", role, diff)
		}
	}
	if len(loaded.Keys(RoleRoot)) != 2 {
		t.Errorf("%d root keys, want 2", len(loaded.Keys(RoleRoot)))
	}
	if _, err := CreateKeys(dir, 1); err == nil {
		t.Error("CreateKeys over existing keys: no error")
	}
}

func FuzzParseKeys(f *testing.F) {
	good, _ := GenerateKey()
	p, _ := good.PEM()
	f.Add(p)
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		ks, err := ParseKeys(data)
		if err != nil {
			return
		}
		for _, k := range ks {
			if k.ID() == "" {
				t.Fatal("parsed key without ID")
			}
			if _, err := k.PEM(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
