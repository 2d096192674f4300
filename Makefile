# cifsd developer targets. `make test` is what CI runs (.ci/run).
#   make test          unit (vet, go test, race on the concurrent packages) + interop
#   make unit          go vet + go test only
#   make interop       real clients (smbclient, impacket, smbtorture pass list) against cifsd
#   make bench         cifsd vs Samba's smbd: metadata rows, smbtorture smb2.bench, the slow-backend
#                      row, then throughput/CPU plain, signed and encrypted (BENCH_ONLY=samba|cifsd, BENCH_RUNS=3)
#   make bench-meta    the metadata, smb2.bench and slow-backend rows only (BENCH_PARTS="meta torture slow")
#   make bench-io      the throughput/CPU rows only, in every protection mode
#   make conformance   smbtorture suites against cifsd and smbd side by side (SUITES="smb2.lock ...")
#   make fuzz          every fuzz target for FUZZTIME each (FUZZTIME=10m make fuzz for a long run)
#   make fuzz-short    the same (kept for old habits)
#   make soak          SOAK_CLIENTS clients for SOAK_DURATION against an in-process cifsd (cmd/cifsd-soak)
#   make scale         SCALE_CONNS (10000) idle, logged-on, tree-connected connections to a cifsd daemon:
#                      its memory per connection, an ECHO on each (test/interop/scale.sh; doc/scale.md)
#   make peers         install smbclient/smbd/smbtorture/impacket/krb5 (Debian) if missing
#   make lint-scripts  shellcheck the scripts

GO         ?= go
GOTESTFLAGS ?= -timeout 20m
# -race on every package; -short keeps it quick.
RACE_PKGS  ?= ./...
FUZZTIME   ?= 10s
SUITES     ?=
SOAK_CLIENTS  ?= 20
SOAK_DURATION ?= 1m
SOAK_FLAGS    ?=
SCALE_CONNS   ?= 10000

SHELL := /usr/bin/env bash

STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: lint test unit vet gotest race interop peers bench bench-meta bench-io conformance fuzz fuzz-short soak scale lint-scripts

test: unit interop

unit: vet lint gotest race

vet:
	$(GO) vet ./...

lint:
	$(GO) run $(STATICCHECK) ./...

gotest:
	$(GO) test $(GOTESTFLAGS) ./...

race:
	$(GO) test -race -short $(GOTESTFLAGS) $(RACE_PKGS)

peers:
	scripts/install-peers.sh

interop: peers
	scripts/interop.sh

bench: peers
	scripts/bench-all.sh

bench-meta: peers
	scripts/bench-meta.sh

bench-io: peers
	BENCH_SKIP_META=1 scripts/bench-all.sh

conformance: peers
	scripts/conformance.sh $(SUITES)

fuzz fuzz-short:
	scripts/fuzz-short.sh $(FUZZTIME)

soak:
	$(GO) run ./cmd/cifsd-soak -clients $(SOAK_CLIENTS) -duration $(SOAK_DURATION) $(SOAK_FLAGS)

scale:
	SCALE_CONNS=$(SCALE_CONNS) timeout 1800 test/interop/scale.sh

lint-scripts:
	@command -v shellcheck >/dev/null || { echo "shellcheck not installed (apt-get install -y shellcheck)"; exit 1; }
	shellcheck -x scripts/*.sh test/interop/*.sh .ci/run
