# tokengate — build, test and run the proxy-wasm credential gate.
#
# The two commands a newcomer needs: `make run` and `make test`.

GO            ?= go
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
BUILD         := build
RAW_WASM      := $(BUILD)/tokengate.raw.wasm
WASM          := $(BUILD)/tokengate.wasm
WASM_SOURCES  := $(shell find plugin -name '*.go' -not -name '*_test.go' 2>/dev/null) go.mod go.sum

.PHONY: all wasm test run bench fuzz soak lint check clean wasm-tinygo oci sync-sha

all: wasm

## wasm: build the plugin (standard Go, wasip1, reactor) and run the Envoy
## compatibility pass over it; keeps the untouched module as $(RAW_WASM).
wasm: $(WASM)

$(RAW_WASM): $(WASM_SOURCES)
	@mkdir -p $(BUILD)
	GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 $(GO) build -buildmode=c-shared -trimpath -buildvcs=false -o $@ ./plugin/cmd/tokengate-wasm

$(WASM): $(RAW_WASM)
	$(GO) run ./plugin/cmd/wasmcompat -in $(RAW_WASM) -out $@
	cd $(BUILD) && sha256sum tokengate.wasm > tokengate.wasm.sha256

## test: build the module, then run every test (native, hostsim, parity, hostile, soak).
test: wasm
	$(GO) test ./...

## run: the demo — hostsim serving the plugin in front of an echo upstream.
run: wasm
	$(GO) run ./plugin/cmd/tokengate demo --wasm $(WASM)

## bench: per-request cost, memory (to 1,000,000 requests) and start-up;
## writes bench/REPORT.md and bench/cost.png (6-9 minutes on 2 cores).
## BENCHFLAGS= (empty) skips the 1,000,000-request checkpoint (about 3 minutes).
BENCHFLAGS ?= -long
bench: wasm
	$(GO) run ./tests/bench/report -wasm $(WASM) -out bench $(BENCHFLAGS)

## fuzz: each fuzz target for FUZZTIME (CI runs only the seed corpora, via make test).
FUZZTIME ?= 20s
fuzz: wasm
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

## soak: the 1,000,000-request differential run (writes tests/RESULTS.md) and
## the 100,000-request allocation-heavy soak per Envoy profile of the compat pass
## (make test runs 10,000 of the latter).
soak: wasm
	TOKENGATE_SOAK=1000000 $(GO) test -run TestSoak -timeout 60m -v ./tests/oracle/
	TOKENGATE_COMPAT_SOAK=100000 $(GO) test -run TestSoak -timeout 60m -v ./tests/compat/

## lint: go vet plus staticcheck, and the TinyGo-path type check.
lint:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	$(GO) run ./plugin/internal/tinygocheck

## check: formatting, tidy, cross-builds, then a clean diff.
check: lint
	test -z "$$(gofmt -l .)"
	$(GO) mod tidy && git diff --exit-code go.mod go.sum
	GOOS=wasip1 GOARCH=wasm $(GO) build ./plugin/...

## wasm-tinygo: the TinyGo build path (needs tinygo on PATH).
wasm-tinygo:
	@command -v tinygo >/dev/null || { echo "tinygo is not installed; CI type-checks this path with 'make lint'"; exit 1; }
	@mkdir -p $(BUILD)
	tinygo build -o $(BUILD)/tokengate.tinygo.wasm -scheduler=none -target=wasi ./plugin/cmd/tokengate-wasm

## oci: the module as a Wasm OCI image for Istio ("compat" variant: one
## tar+gzip layer holding plugin.wasm), as build/oci/ and build/tokengate-oci.tar.
oci: wasm
	$(GO) run ./plugin/cmd/ocibuild -wasm $(WASM) -layout $(BUILD)/oci -tar $(BUILD)/tokengate-oci.tar

## sync-sha: rewrite the module and image digests in envoy/ to match $(WASM).
sync-sha: wasm
	$(GO) run ./plugin/cmd/syncsha -wasm $(WASM)

## clean: remove build outputs.
clean:
	rm -rf $(BUILD)
