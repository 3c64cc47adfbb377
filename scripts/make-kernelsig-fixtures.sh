#!/usr/bin/env bash
# Regenerates the signed light-skeleton fixtures in testdata/kernelsig with
# the real tools: clang (the objects), bpftool built with signing support
# (gen skeleton -S, Linux 6.18 "hash chain" loaders) and openssl cms (the
# load-time scheme, and the bad profiles bpftool never writes).
#
#   make testdata-kernelsig BPFTOOL=/path/to/bpftool
#
# bpftool: v7.7.0 or later built against libbpf before the July 2026
# "Drop in-loader metadata check" change (make -C src in a libbpf/bpftool
# checkout with its libbpf submodule). Not part of make test. The keys in
# keys/ are TEST-ONLY: never trust them on a host.
set -euo pipefail
cd "$(dirname "$0")/../testdata/kernelsig"
BPFTOOL=${BPFTOOL:-bpftool}
"$BPFTOOL" version | grep -q crypto || { echo "$BPFTOOL: built without signing support (features: crypto)" >&2; exit 1; }

# Objects from C.
for c in counter pinned; do
	clang -O2 -g -target bpf -I/usr/include/"$(uname -m)"-linux-gnu -c "$c.bpf.c" -o "$c.bpf.o"
done

# Test-only PKI: a CA the test repository trusts, a signer it issued, and
# a second CA (untrusted) with its own signer. Regenerated only when absent
# so that the committed fixtures stay stable.
mkdir -p keys
k=keys
mkca() { # name CN
	[ -f "$k/$1.pem" ] && return
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$k/$1.key" -out "$k/$1.pem" -days 36500 \
		-subj "/CN=$2" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
}
mksigner() { # name CN ca
	[ -f "$k/$1.pem" ] && return
	openssl req -newkey rsa:2048 -nodes -keyout "$k/$1.key" -out "$k/$1.csr" -subj "/CN=$2" 2>/dev/null
	printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' >"$k/$1.ext"
	openssl x509 -req -in "$k/$1.csr" -CA "$k/$3.pem" -CAkey "$k/$3.key" -CAcreateserial -days 36500 \
		-extfile "$k/$1.ext" -out "$k/$1.pem" 2>/dev/null
	rm -f "$k/$1.csr" "$k/$1.ext" "$k"/*.srl
}
mkca ca "ebpfrepo TEST-ONLY kernel signing CA"
mksigner signer "ebpfrepo TEST-ONLY bpf signer" ca
mksigner other "ebpfrepo TEST-ONLY second signer" ca
mkca rogue-ca "TEST-ONLY untrusted CA"
mksigner rogue "TEST-ONLY rogue signer" rogue-ca

# Good: bpftool's own signed light skeleton.
"$BPFTOOL" gen skeleton -S -k $k/signer.key -i $k/signer.pem counter.bpf.o name counter >counter.lskel.h
# The user-space loader l3afd runs as cmd_start, built from the skeleton
# (static: the host needs nothing else). It needs the headers of the
# libbpf bpftool was built with (skel_internal.h and a UAPI bpf.h with the
# signature fields; Debian 12's libbpf-dev is too old): LIBBPF_SRC is that
# libbpf's source tree (default: the bpftool checkout's libbpf/), and
# bpftool's build installs its headers under src/libbpf/include.
bpftool_src=$(dirname "$(command -v "$BPFTOOL")")
LIBBPF_SRC=${LIBBPF_SRC:-$bpftool_src/../libbpf}
gcc -O2 -Wall -static -I"$LIBBPF_SRC/include/uapi" -I"$bpftool_src/libbpf/include" counter_loader.c -o counter_loader
# Signed by a certificate the repository does not trust.
"$BPFTOOL" gen skeleton -S -k $k/rogue.key -i $k/rogue.pem counter.bpf.o name counter >untrusted.lskel.h
# Unsigned light skeleton (no -S): nothing for the kernel to check.
"$BPFTOOL" gen skeleton -L counter.bpf.o name counter >unsigned.lskel.h
# bpftool refuses to sign an object that pins maps by name; keep its words.
if "$BPFTOOL" gen skeleton -S -k $k/signer.key -i $k/signer.pem pinned.bpf.o name pinned >/dev/null 2>pinned.bpftool.txt; then
	echo "note: this bpftool signed pinned.bpf.o" >&2
fi

# The parts of counter.lskel.h, as a package carries them.
arr() { # header array-name -> raw bytes on stdout
	awk -v n="$2" '$0 ~ "static const char " n "\\[\\]" {on=1; next}
		on { end = sub(/";.*$/, ""); sub(/\\$/, ""); printf "%s", $0; if (end) exit }' "$1" |
		{ IFS= read -r hex || true; printf '%b' "$hex"; }
}
mkdir -p parts
arr counter.lskel.h opts_insn >parts/loader.insns
arr counter.lskel.h opts_data >parts/loader.data
arr counter.lskel.h opts_sig >parts/loader.sig
cp $k/signer.pem parts/signer.pem

# openssl cms with bpftool's flags (detached, no certificates, key id, no
# attributes, binary, SHA-256) over other contents or with other profiles.
cms() { # in out [extra flags...]
	local in=$1 out=$2; shift 2
	openssl cms -sign -binary -nocerts -noattr -keyid -md sha256 -signer $k/signer.pem -inkey $k/signer.key \
		-in "$in" -outform DER -out "$out" "$@"
}
# Load-time scheme (bpf-next, July 2026): the signature covers insns || metadata.
cat parts/loader.insns parts/loader.data >parts/loadtime.content
cms parts/loadtime.content parts/loadtime.sig
rm parts/loadtime.content
# Signed attributes present (bpftool never writes them; the kernel refuses them).
openssl cms -sign -binary -nocerts -keyid -md sha256 -signer $k/signer.pem -inkey $k/signer.key \
	-in parts/loader.insns -outform DER -out parts/signed-attrs.sig
# SHA-1.
openssl cms -sign -binary -nocerts -noattr -keyid -md sha1 -signer $k/signer.pem -inkey $k/signer.key \
	-in parts/loader.insns -outform DER -out parts/sha1.sig
# Signer identified by issuer and serial instead of its key id.
openssl cms -sign -binary -nocerts -noattr -md sha256 -signer $k/signer.pem -inkey $k/signer.key \
	-in parts/loader.insns -outform DER -out parts/issuer-serial.sig
# Certificates embedded (bpftool signs with CMS_NOCERTS).
openssl cms -sign -binary -noattr -keyid -md sha256 -signer $k/signer.pem -inkey $k/signer.key \
	-in parts/loader.insns -outform DER -out parts/with-certs.sig
# Content attached instead of detached.
openssl cms -sign -binary -nodetach -nocerts -noattr -keyid -md sha256 -signer $k/signer.pem -inkey $k/signer.key \
	-in parts/loader.insns -outform DER -out parts/attached.sig
cp $k/other.pem parts/other.pem
cp $k/rogue.pem parts/rogue.pem
echo "wrote testdata/kernelsig"
