# ebpfrepo — see README.md. `make demo` runs the main job on the bundled
# example packages; `make test` runs the whole test suite (what CI runs).

GO       ?= go
BIN      := bin/ebpfrepo
FUZZTIME ?= 60s

.PHONY: all build demo test test-short vet testdata fuzz bench clean

all: build

build:
	$(GO) build -trimpath -ldflags "-X main.commit=$$(git rev-parse --short=12 HEAD 2>/dev/null)" -o $(BIN) ./cmd/ebpfrepo
	$(GO) build -trimpath -o bin/tuf-conformance-client ./cmd/tuf-conformance-client

# The main job: pack the example packages, build a signed demo repository
# and catalogue from them, and print where to look.
demo: build
	./scripts/demo.sh

# The whole test suite. Browser tests need Debian's chromium; verifier tests
# need root and a BPF-capable kernel (they skip with the reason otherwise).
test: vet
	$(GO) test -count=1 -timeout 15m ./...

test-short:
	$(GO) test -short ./...

vet:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Rebuild the example eBPF objects from their C sources (clang, llvm, libbpf-dev).
testdata:
	$(MAKE) -C testdata

# Run every Fuzz target for FUZZTIME each, one after the other.
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

# Benchmarks and the scale harness; writes bench/RESULTS.md.
bench:
	./bench/run.sh

clean:
	rm -rf bin demo
