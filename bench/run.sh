#!/bin/sh
# The scale harness behind `make bench`: builds bin/ebpfrepo and the
# bench tools, installs helm from its Go module (not vendored), then runs
# bench/cmd/harness, which generates synthetic repositories, measures and
# writes bench/RESULTS.md. Needs only Go (and network access for helm's
# module the first time; without helm the helm rows are skipped).
#
#   BENCH_SIZES  comma-separated repository sizes   (default 1000,10000)
#   BENCH_RUNS   repetitions of each timed step     (default 3; medians);
#                or one per size, e.g. 3,1
#   BENCH_FLAGS  extra flags for the harness, e.g. -v
#   BENCH_RESULTS where the report goes               (default bench/RESULTS.md)
#   GO           the go command                     (default go)
#
# Generated repositories live in bench/out/n<SIZE> (gitignored, about
# 1 GB for 10,000) and are reused while the generator's inputs are unchanged.
set -eu
cd "$(dirname "$0")/.."
GO=${GO:-go}
OUT=bench/out
BIN=$OUT/bin
HELM_VERSION=v3.22.0
mkdir -p "$BIN"

echo "building bin/ebpfrepo and the bench tools"
$GO build -trimpath -o bin/ebpfrepo ./cmd/ebpfrepo
$GO build -trimpath -o "$BIN/" ./bench/cmd/harness ./bench/cmd/floor ./bench/cmd/gen ./bench/cmd/measure ./bench/cmd/clientcheck

if ! $GO version -m "$BIN/helm" 2>/dev/null | grep -q "helm.sh/helm/v3[[:space:]]*$HELM_VERSION[[:space:]]"; then
	echo "installing helm $HELM_VERSION from its Go module into $BIN"
	if ! (cd "$OUT" && GOBIN="$PWD/bin" $GO install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"); then
		echo "warning: could not install helm; the helm rows will be skipped" >&2
		rm -f "$BIN/helm"
	fi
fi

exec "$BIN/harness" \
	-sizes "${BENCH_SIZES:-1000,10000}" \
	-runs "${BENCH_RUNS:-3}" \
	-out "$OUT" -bin "$BIN" -ebpfrepo bin/ebpfrepo \
	-results "${BENCH_RESULTS:-bench/RESULTS.md}" ${BENCH_FLAGS:-}
