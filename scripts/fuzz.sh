#!/usr/bin/env bash
# Run every FuzzXxx target in the module for $1 (default 60s) each.
set -euo pipefail
fuzztime=${1:-60s}
cd "$(dirname "$0")/.."
for pkg in $(go list ./...); do
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		echo "== $pkg $target ($fuzztime)"
		# A short minimize time: the default (60s) spends a whole run minimizing
		# the first new input.
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 5s -parallel 2 "$pkg"
	done
done
