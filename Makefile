# ebpfrepo — see README.md. `make demo` runs the main job on the bundled
# example packages; `make test` runs the whole test suite (what CI runs).

GO       ?= go
BIN      := bin/ebpfrepo
FUZZTIME ?= 60s

.PHONY: all build demo test test-short vet testdata testdata-vectors testdata-windows testdata-kernelsig fuzz bench bench-100k clean s3-server

all: build

build:
	$(GO) build -trimpath -ldflags "-X main.commit=$$(git rev-parse --short=12 HEAD 2>/dev/null)" -o $(BIN) ./cmd/ebpfrepo
	$(GO) build -trimpath -o bin/tuf-conformance-client ./cmd/tuf-conformance-client
	$(GO) build -trimpath -o bin/testsigstore ./scripts/testsigstore

# The main job: pack the example packages, build a signed demo repository
# and catalogue from them, and print where to look.
demo: build
	./scripts/demo.sh

# The whole test suite. Browser tests need Debian's chromium; verifier tests
# need root and a BPF-capable kernel; publish tests a real S3-compatible
# server, versitygw, which s3-server installs (they skip with the reason
# otherwise).
test: vet s3-server
	$(GO) test -count=1 -timeout 15m ./...

# versitygw (Apache-2.0), the S3-compatible server the publish tests start on
# 127.0.0.1, built from its Go module into $(go env GOPATH)/bin once.
VERSITYGW_VERSION := v1.8.0
s3-server:
	@test -x "$$($(GO) env GOPATH)/bin/versitygw" || command -v versitygw >/dev/null || \
		{ echo "installing versitygw $(VERSITYGW_VERSION) for the publish tests"; $(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION); }

# The Authenticode fixtures of testdata/windows (openssl, osslsigncode);
# committed, so not part of make test.
testdata-windows:
	./scripts/make-windows-fixtures.sh

# The signed light-skeleton fixtures of testdata/kernelsig (clang, a bpftool
# built with signing support, openssl); committed, so not part of make test.
BPFTOOL ?= bpftool
testdata-kernelsig:
	BPFTOOL=$(BPFTOOL) ./scripts/make-kernelsig-fixtures.sh

test-short:
	$(GO) test -short ./...

vet:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Rebuild the example eBPF objects from their C sources (clang, llvm, libbpf-dev),
# and progtest's own fixtures.
testdata:
	$(MAKE) -C testdata
	$(MAKE) -C progtest/testdata

# The packet captures of the example packages' test vectors
# (testdata/packages/*/tests/*.pcap); committed, so not part of make test.
testdata-vectors:
	$(GO) run ./scripts/mkvectors

# Run every Fuzz target for FUZZTIME each, one after the other.
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

# Benchmarks and the scale harness; writes bench/RESULTS.md.
bench:
	./bench/run.sh

# 100,000 versions (10,000 packages × 10) beside 10,000, one run each:
# generation takes about 20 minutes and ~20 GB under bench/out; the report
# goes to bench/RESULTS-100k.md. Not part of make test or CI.
bench-100k:
	BENCH_SIZES=10000,100000 BENCH_RUNS=1 BENCH_RESULTS=bench/RESULTS-100k.md ./bench/run.sh

clean:
	rm -rf bin demo
