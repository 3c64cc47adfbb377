#!/bin/sh
# The main job on the bundled examples: create demo/repo, add every
# example package of testdata/packages, build the signed repository and
# catalogue into demo/repo/public, and print where to look.
#
# SOURCE_DATE_EPOCH fixes the build time (default: the start of the
# current UTC hour, so dates and expiry are the same within the hour and the
# metadata stays valid for at least 23 hours: timestamp.json expires first).
# Keys are fresh on every run, so signatures differ between runs; rebuild
# demo/repo without re-running init to see a byte-identical output.
set -eu
cd "$(dirname "$0")/.."
EBPFREPO=${EBPFREPO:-bin/ebpfrepo}
[ -x "$EBPFREPO" ] || { echo "demo: $EBPFREPO missing: run make build first" >&2; exit 1; }
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	now=$(date -u +%s)
	SOURCE_DATE_EPOCH=$((now - now % 3600))
fi
export SOURCE_DATE_EPOCH

REPO=demo/repo
OUT=$REPO/public
rm -rf "$REPO"
mkdir -p demo

"$EBPFREPO" init "$REPO" --name ebpfrepo-demo \
	--description "Example eBPF packages bundled with ebpfrepo" >/dev/null
# As root on a BPF-capable kernel, also load every program into the kernel's
# verifier and run their test vectors through BPF_PROG_RUN (nothing is
# attached); the catalogue then says "verified on …" and "4/4 tests pass on …".
if [ "$(id -u)" = 0 ] && [ -e /sys/kernel/btf/vmlinux ]; then
	sed -i 's/^verify = false$/verify = true/' "$REPO/ebpfrepo.toml"
fi
# Publisher signing: the author of ratelimiting ("acme") signs it with a key
# of their own; the repository verifies the role and never re-signs it.
AUTHOR=demo/author
rm -rf "$AUTHOR" demo/dist
"$EBPFREPO" publisher keygen -o "$AUTHOR" >/dev/null
"$EBPFREPO" publisher add --repo "$REPO" acme --key "$AUTHOR/publisher.pub.pem" --package ratelimiting >/dev/null
for d in testdata/packages/ratelimiting-*/; do
	"$EBPFREPO" pack "$d" -o "demo/dist/$(basename "$d")" >/dev/null
done
"$EBPFREPO" sign --publisher acme --key "$AUTHOR/publisher.pem" --repo "$REPO" -o "$AUTHOR" demo/dist/*/*.tar.gz >/dev/null
"$EBPFREPO" add --repo "$REPO" --signed "$AUTHOR/pub-acme.json" demo/dist/*/*.tar.gz
# Keyless publishing: tc-stats is released from a CI workflow that signs
# it with its OIDC identity (a Sigstore bundle) instead of a key. The demo
# plays Sigstore with a private TEST-ONLY instance (bin/testsigstore); the
# repository pins that instance's trusted root and grants tc-stats to the
# workflow, both in the offline-signed targets role.
SIGSTORE=demo/sigstore
TESTSIGSTORE=${TESTSIGSTORE:-bin/testsigstore}
rm -rf "$SIGSTORE"
"$TESTSIGSTORE" init "$SIGSTORE"
"$EBPFREPO" sigstore update-trust-root --repo "$REPO" "$SIGSTORE/trusted_root.json" >/dev/null
"$EBPFREPO" publisher add --repo "$REPO" acme-ci --package tc-stats \
	--identity-regexp 'https://github\.com/acme/tc-stats/\.github/workflows/release\.yml@refs/tags/v.*' \
	--issuer https://token.actions.githubusercontent.com >/dev/null
"$EBPFREPO" pack testdata/packages/tc-stats -o demo/dist/tc-stats >/dev/null
TCSTATS=$(ls demo/dist/tc-stats/*.tar.gz)
"$TESTSIGSTORE" sign "$SIGSTORE" acme/tc-stats .github/workflows/release.yml refs/tags/v1.0.0 "$TCSTATS" --dsse
"$EBPFREPO" add --repo "$REPO" --bundle "$TCSTATS.sigstore.json" "$TCSTATS"
for d in testdata/packages/*/; do
	case "$d" in */ratelimiting-*|*/tc-stats/) continue ;; esac
	"$EBPFREPO" add --repo "$REPO" "$d"
done
# Kernel signing: a signed light-skeleton loader (bpftool gen skeleton -S)
# under testdata/kernelsig's TEST-ONLY CA, which this demo repository
# trusts; add verifies it offline as the kernel would.
printf '\n[kernel]\ntrusted_certs = ["%s"]\n' "$(pwd)/testdata/kernelsig/keys/ca.pem" >>"$REPO/ebpfrepo.toml"
SC=demo/dist/signed-counter
mkdir -p "$SC"
cp testdata/kernelsig/package/* testdata/kernelsig/counter.bpf.o testdata/kernelsig/counter.lskel.h testdata/kernelsig/counter_loader "$SC/"
cp testdata/kernelsig/parts/signer.pem "$SC/"
"$EBPFREPO" add --repo "$REPO" "$SC"
"$EBPFREPO" build --repo "$REPO"

ROOT=$OUT/metadata/1.root.json
SUM=$(sha256sum "$ROOT" | cut -d' ' -f1)
cat <<EOT

Demo repository built (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH).
  repository (keys, packages, metadata):  $REPO
  published output:                       $OUT
  catalogue:                              $OUT/index.html
  root to pin:                            $ROOT
  its sha256:                             $SUM

Preview it:
  $EBPFREPO serve $OUT                       # then open http://127.0.0.1:8080/
Fetch a package through TUF (in another shell); ratelimiting is signed by
its publisher acme (the key in $AUTHOR), tc-stats by keyless publisher
acme-ci (a CI workflow's Sigstore bundle), the others by the repository:
  $EBPFREPO get --repo http://127.0.0.1:8080 --root $ROOT ratelimiting@^1.0 --platform jammy -o /tmp --require publisher
  $EBPFREPO get --repo http://127.0.0.1:8080 --root $ROOT tc-stats --platform jammy -o /tmp --require publisher
  $EBPFREPO info --repo http://127.0.0.1:8080 --root $ROOT tc-stats      # who signed it, and its log entry
signed-counter carries a kernel-signed loader; a host that trusts the test CA:
  $EBPFREPO get --repo http://127.0.0.1:8080 --root $ROOT signed-counter --platform noble -o /tmp --require kernel --kernel-cert testdata/kernelsig/keys/ca.pem
Check a file someone handed you:
  $EBPFREPO verify --repo http://127.0.0.1:8080 --root $ROOT demo/dist/ratelimiting-1.1.0/l3af_ratelimiting.tar.gz
Point an unmodified l3afd at the plain tree:
  [ebpf-repo]
  url: http://127.0.0.1:8080/l3afd
EOT
