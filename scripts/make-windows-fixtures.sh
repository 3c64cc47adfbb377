#!/bin/sh
# Makes the Authenticode fixtures of testdata/windows with the real tools:
# openssl for test CAs and keys, osslsigncode for the signatures. Run by
# `make testdata-windows` (not part of make test); the outputs are
# committed. Every key made here is TEST ONLY.
#
# Input: cgroup_sock_addr.sys, the test-signed native eBPF driver of
# cilium/ebpf's testdata (MIT, eBPF for Windows contributors;
# LICENSE.cgroup_sock_addr).
#
# Made:
#   keys/            test roots, an intermediate, leaves (RSA, so signing is deterministic)
#   unsigned.sys     the driver with its signature removed
#   test-signed.sys  signed by a leaf of the test root (the repository pins it)
#   production-mimic.sys  signed with the eBPF for Windows production profile
#                    (subject, both EKUs) under a TEST root that the tests pin
#                    in place of Microsoft Root Certificate Authority 2011
#   no-ebpf-eku.sys  the production profile without the eBPF EKU
#   expired.sys      a test-root leaf that expired before it signed
#   untrusted.sys    a leaf of a root nobody pins
#   nested.sys       test-signed, plus a nested signature from the untrusted root
#   nested-production.sys  production-mimic, plus a nested test-signed signature
#   timestamped-expired.sys  the expired leaf, RFC 3161 time-stamped while it was valid
#   untrusted-timestamp.sys  test-signed, time-stamped by a TSA nobody pins
#   tampered-section.sys, tampered-header.sys, tampered-signature.sys
set -eu
cd "$(dirname "$0")/../testdata/windows"
K=keys
mkdir -p "$K"
T=$(date +%s) # the signing time of every signature: now, after the roots were made

ca() { # name subject: a root valid from 2023 to 2046 (self-signed through openssl ca, for explicit dates)
	[ -f "$K/$1.key" ] || openssl genrsa -out "$K/$1.key" 2048 2>/dev/null
	openssl req -new -key "$K/$1.key" -subj "$2" -out "$K/$1.csr" 2>/dev/null
	printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n' > "$K/$1.ext"
	d=$(mktemp -d)
	: > "$d/index.txt"
	echo 01 > "$d/serial"
	printf '[ca]\ndefault_ca=c\n[c]\ndatabase=%s/index.txt\nserial=%s/serial\nnew_certs_dir=%s\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n' "$d" "$d" "$d" > "$d/ca.cnf"
	openssl ca -batch -selfsign -config "$d/ca.cnf" -keyfile "$K/$1.key" -md sha256 -notext -preserveDN \
		-startdate 20230101000000Z -enddate 20460101000000Z -extfile "$K/$1.ext" -in "$K/$1.csr" -out "$K/$1.pem" 2>/dev/null
	rm -rf "$d" "$K/$1.csr" "$K/$1.ext"
}
leaf() { # name subject issuer eku days_from days_to
	[ -f "$K/$1.key" ] || openssl genrsa -out "$K/$1.key" 2048 2>/dev/null
	openssl req -new -key "$K/$1.key" -subj "$2" -out "$K/$1.csr" 2>/dev/null
	printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' "$4" > "$K/$1.ext"
	# openssl ca, for explicit validity dates (OpenSSL 3.0's x509 has none).
	d=$(mktemp -d)
	: > "$d/index.txt"
	printf '%s\n' "$(printf %s "$1" | sha256sum | cut -c1-16)" > "$d/serial"
	printf '[ca]\ndefault_ca=c\n[c]\ndatabase=%s/index.txt\nserial=%s/serial\nnew_certs_dir=%s\npolicy=p\nunique_subject=no\ncopy_extensions=none\n[p]\ncommonName=supplied\n' "$d" "$d" "$d" > "$d/ca.cnf"
	openssl ca -batch -config "$d/ca.cnf" -cert "$K/$3.pem" -keyfile "$K/$3.key" -md sha256 -notext -preserveDN \
		-startdate "$5" -enddate "$6" -extfile "$K/$1.ext" -in "$K/$1.csr" -out "$K/$1.pem" 2>/dev/null
	rm -rf "$d" "$K/$1.csr" "$K/$1.ext"
	cat "$K/$1.pem" "$K/$3.pem" > "$K/$1.chain.pem"
}
sign() { # leaf in out [extra]
	rm -f "$3.tmp"
	osslsigncode sign -certs "$K/$1.chain.pem" -key "$K/$1.key" -h sha256 -time "${TIME:-$T}" ${4:-} -in "$2" -out "$3.tmp" >/dev/null
	mv "$3.tmp" "$3"
}

ca test-root "/CN=ebpfrepo TEST root (test only)/O=ebpfrepo tests"
ca prod-mimic-root "/CN=TEST mimic of Microsoft Root CA 2011/O=ebpfrepo tests (test only)"
ca untrusted-root "/CN=ebpfrepo TEST untrusted root (test only)/O=ebpfrepo tests"
leaf test-leaf "/CN=ebpfrepo test driver signer (test only)" test-root codeSigning 20250101000000Z 20350101000000Z
leaf prod-leaf "/C=US/ST=Washington/L=Redmond/O=Microsoft Corporation/CN=Microsoft Corporation eBPF Verification" prod-mimic-root codeSigning,1.3.6.1.4.1.311.133.1 20250101000000Z 20350101000000Z
leaf prod-noeku-leaf "/C=US/ST=Washington/L=Redmond/O=Microsoft Corporation/CN=Microsoft Corporation eBPF Verification" prod-mimic-root codeSigning 20250101000000Z 20350101000000Z
leaf expired-leaf "/CN=ebpfrepo expired driver signer (test only)" test-root codeSigning 20240101000000Z 20250101000000Z
leaf untrusted-leaf "/CN=ebpfrepo untrusted driver signer (test only)" untrusted-root codeSigning 20250101000000Z 20350101000000Z
# Time-stamping authorities (RFC 3161, osslsigncode's built-in TSA).
leaf test-tsa "/CN=ebpfrepo test time-stamping authority (test only)" test-root "critical,timeStamping" 20230101000000Z 20400101000000Z
leaf untrusted-tsa "/CN=ebpfrepo untrusted time-stamping authority (test only)" untrusted-root "critical,timeStamping" 20230101000000Z 20400101000000Z

rm -f *.sys.tmp unsigned.sys && osslsigncode remove-signature -in cgroup_sock_addr.sys -out unsigned.sys >/dev/null
sign test-leaf unsigned.sys test-signed.sys
sign prod-leaf unsigned.sys production-mimic.sys
sign prod-noeku-leaf unsigned.sys no-ebpf-eku.sys
sign expired-leaf unsigned.sys expired.sys
sign untrusted-leaf unsigned.sys untrusted.sys
sign untrusted-leaf test-signed.sys nested.sys -nest
sign test-leaf production-mimic.sys nested-production.sys -nest
# Signed in mid-2024, while the expired leaf was valid, and time-stamped
# then by a pinned TSA: valid today thanks to the timestamp. The same
# stamped by a TSA nobody pins: refused.
TS=1717200000 # 2024-06-01T00:00:00Z
TIME=$TS
sign expired-leaf unsigned.sys timestamped-expired.sys "-TSA-certs $K/test-tsa.chain.pem -TSA-key $K/test-tsa.key -TSA-time $TS"
unset TIME
sign test-leaf unsigned.sys untrusted-timestamp.sys "-TSA-certs $K/untrusted-tsa.chain.pem -TSA-key $K/untrusted-tsa.key -TSA-time $TS"

# Tampered copies of test-signed.sys: one byte each.
flip() { # in out offset
	cp "$1" "$2"
	b=$(od -An -tu1 -j "$3" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $(( (b ^ 0x20) & 255 )))" | dd of="$2" bs=1 seek="$3" conv=notrunc 2>/dev/null
}
# A byte of the first section's raw data (PointerToRawData of section 1).
pe=$(od -An -tu4 -j 60 -N4 test-signed.sys | tr -d ' ')
nsec_off=$((pe + 24))
opt_size=$(od -An -tu2 -j $((pe + 20)) -N2 test-signed.sys | tr -d ' ')
sec1=$((nsec_off + opt_size))
raw=$(od -An -tu4 -j $((sec1 + 20)) -N4 test-signed.sys | tr -d ' ')
flip test-signed.sys tampered-section.sys $((raw + 16))
flip test-signed.sys tampered-header.sys 80 # the DOS stub, covered by the authentihash
# A byte of the signature value, at the end of the signature blob (the
# certificate table's offset and its WIN_CERTIFICATE length; PE32+ data
# directory 4).
cert=$(od -An -tu4 -j $((pe + 24 + 144)) -N4 test-signed.sys | tr -d ' ')
len=$(od -An -tu4 -j "$cert" -N4 test-signed.sys | tr -d ' ')
flip test-signed.sys tampered-signature.sys $((cert + len - 24))

for f in *.sys; do
	printf '%-28s ' "$f"
	osslsigncode verify -CAfile "$K/test-root.pem" -in "$f" 2>&1 | grep -E '^(Signature verification: |No signature found|Failed)' | head -1 || echo
done
