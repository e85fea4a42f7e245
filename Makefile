# mcpbench — `make run` measures, `make test` checks. Both set up what they need.
GO       ?= go
BIN      := bin/mcpbench
GOFILES  := $(shell find . -name '*.go' -not -path './node_modules/*' -not -path './.tools/*')
BENCHTIME ?= 1s

FUZZTIME ?= 30s

.PHONY: all build run test fmt-check vet unit allocs overload bench fuzz perf-wrk perf-wrk2 clean

all: build

# Tools the Makefile installs when missing: HAProxy (Debian), Node 22, the
# MCP conformance suite and the interop peers (npm), under .tools/ where
# possible.
-include haproxy.mk conformance.mk interop.mk chromium.mk

build: $(BIN)

# -buildvcs=auto: stamp the commit (summary.json's build.commit) even where
# GOFLAGS says -buildvcs=false, as this project's machine does.
# .git/HEAD and .git/index too: a new commit rebuilds, so the binary (and
# every summary.json it writes) names the commit it was built from.
$(BIN): $(GOFILES) go.mod go.sum $(wildcard .git/HEAD .git/index)
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/mcpbench

# The main job: the default scenario (about two minutes) on servers started
# as child processes; prints the table and writes results/default/TIMESTAMP
# with report.md and the charts.
SCENARIO ?= scenarios/default.yaml
run: build tools-haproxy
	./$(BIN) run $(SCENARIO)

test: fmt-check vet unit allocs overload conformance interop browser

fmt-check:
	@out=$$(gofmt -l $(GOFILES)); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# One package at a time (-p 1): the timing tests (a stall, the floor) must
# not share the 2 CPUs with another package's load.
unit: tools-haproxy
	$(GO) test -race -count=1 -p 1 ./...

# The allocation guards of the hot paths, without -race: the race detector
# changes what allocates, so under `unit` they skip.
allocs:
	$(GO) test -count=1 -run 'Alloc' ./...

# Each rate-limited stack, serving the plain echo, at twice the rate it
# sustains, as child processes on their own CPU. Without -race: the race
# detector slows the generator and the servers several times over, so the
# rates would not be the ones users meet.
overload: tools-haproxy
	$(GO) test -count=1 -run 'AtTwiceCapacity' -v ./cmd/mcpbench

# Micro-benchmarks, benchstat-friendly: make bench BENCHTIME=2s > new.txt
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

# Every fuzz target for FUZZTIME each (make test runs their seed corpora).
# What a target finds lands in its testdata/fuzz/ and stays as a test.
fuzz:
	@for f in $$(grep -rl --include='*_test.go' --exclude-dir=node_modules --exclude-dir=.tools '^func Fuzz' .); do \
		pkg=$$(dirname $$f); \
		for t in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$f | sed 's/^func //'); do \
			echo "== $$pkg $$t ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

# mcpbench against wrk on the same minimal HTTP server (docs/PERFORMANCE.md).
perf-wrk: build
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	./scripts/perf-vs-wrk.sh

# mcpbench's open loop against wrk2's, side by side (docs/PERFORMANCE.md).
# wrk2 is built from source: WRK2=/path/to/wrk (the script says how).
perf-wrk2: build
	WRK2="$(WRK2)" ./scripts/perf-vs-wrk2.sh

clean:
	rm -rf bin

# The container image (Containerfile), with podman, else docker. The
# Kubernetes manifests in deploy/kubernetes run it: push it where the
# cluster pulls from, and name it there (deploy/kubernetes/README.md).
# IMAGE_FLAGS go to the build, e.g. --build-arg GO_IMAGE=… for a mirror, or
# --isolation chroot where podman cannot run containers.
IMAGE ?= mcpbench:dev
IMAGE_FLAGS ?=
.PHONY: image
image:
	@tool=$$(command -v podman || command -v docker) || { \
		echo "make image: needs podman or docker, and neither is installed (apt-get install podman)"; exit 1; }; \
	echo "$$tool build $(IMAGE_FLAGS) -f Containerfile -t $(IMAGE) ."; \
	"$$tool" build $(IMAGE_FLAGS) -f Containerfile -t $(IMAGE) .
