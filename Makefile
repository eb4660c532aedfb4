# Build, test and end-to-end targets. `make test` is what CI runs (.ci/run).

GO        ?= go
BIN       := bin/spindle
FUZZTIME  ?= 5s
E2E_DIR   := e2e

.PHONY: all build fmt vet unit fuzz fuzz-long e2e e2e-deps test soak bench-load clean

all: build

## build: compile the server binary into bin/spindle
build:
	$(GO) build -o $(BIN) ./cmd/spindle

## fmt: fail when any Go file is not gofmt-clean
fmt:
	@echo "== gofmt"
	@out=$$(find . -name '*.go' -not -path './.git/*' -not -path '*/node_modules/*' -not -path '*/testdata/*' -print0 | xargs -0 gofmt -l); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## vet: static checks
vet:
	@echo "== go vet"
	$(GO) vet ./...

## unit: every Go test with the race detector
unit:
	@echo "== go test -race"
	$(GO) test -race -count=1 ./...

## fuzz: run each Fuzz target for $(FUZZTIME), two at a time (one fuzzer per
## core: each target still gets its full $(FUZZTIME)); scripts/fuzz-one.sh runs
## one and keeps its output together. Any run that writes a failing input fails.
FUZZJOBS ?= 2
fuzz:
	@echo "== fuzz ($(FUZZTIME) per target, $(FUZZJOBS) at a time)"
	@targets=$$($(GO) test -list '^Fuzz' ./... | awk '/^Fuzz/ {names = names " " $$1; next} /^ok/ {n = split(names, a, " "); for (i = 1; i <= n; i++) print $$2 ":" a[i]; names = ""}'); \
	if [ -z "$$targets" ]; then echo "fuzz: no Fuzz targets"; exit 0; fi; \
	printf '%s\n' $$targets | GO=$(GO) FUZZTIME=$(FUZZTIME) xargs -P $(FUZZJOBS) -n 1 bash scripts/fuzz-one.sh

## fuzz-long: every Fuzz target for minutes, not seconds (FUZZLONG, default 2m
## each, about 20 min in all): run it before resolving an issue that touches a
## decoder; not in CI. Commit any failing input it writes to the corpus.
FUZZLONG ?= 2m
fuzz-long:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZLONG)

## e2e-deps: install the pinned Node packages (again only when the lock file changes)
e2e-deps: $(E2E_DIR)/node_modules/.package-lock.json

$(E2E_DIR)/node_modules/.package-lock.json: $(E2E_DIR)/package-lock.json $(E2E_DIR)/package.json
	cd $(E2E_DIR) && npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

## e2e: the built binary against the real centrifuge SDK under Node
e2e: build e2e-deps
	$(GO) build -o bin/goapp ./examples/goapp
	@echo "== e2e (node --test)"
	cd $(E2E_DIR) && SPINDLE_BIN=../$(BIN) node --test --test-reporter=spec --test-concurrency=1 --test-timeout=60000 *.test.mjs

## e2e-workers: spindle app with real Node and PHP worker processes
e2e-workers: build
	@echo "== e2e workers (node --test)"
	cd e2e/workers && npm ci --no-audit --no-fund --ignore-scripts && SPINDLE_BIN=$(CURDIR)/$(BIN) node --test --test-reporter=spec --test-concurrency=1 --test-timeout=60000 *.test.mjs

## e2e-browser: the demo page in headless Chromium, two users at once
e2e-browser: build
	@echo "== e2e browser (playwright-core + chromium)"
	cd e2e/browser && npm ci --no-audit --no-fund --ignore-scripts && SPINDLE_BIN=$(CURDIR)/$(BIN) npm test

## demo-web-check: the committed page bundle matches a fresh build
demo-web-check:
	cd demo/web && npm ci --no-audit --no-fund --ignore-scripts && npm run check

## test: gofmt + vet + race tests + short fuzz pass + every end-to-end suite (what CI runs)
test: fmt vet unit fuzz e2e e2e-workers e2e-browser demo-web-check

## soak: 10,000 connections on 1,000 channels with history, 200 API
## publications/s and 100 disconnects+recovering reconnects/s for 10 min;
## prints RSS and goroutines over time, lost/duplicated publications and the
## delivery p99, and fails on any loss. Not in CI. SOAKFLAGS=-duration=1m
## (or any flag of e2e/soak) for a shorter run.
SOAKFLAGS ?=
soak: build
	$(GO) build -o bin/soak ./e2e/soak
	bin/soak -bin $(BIN) $(SOAKFLAGS)

## bench-load: this tree against the baseline commit under the shared load
## tool (../shared/loadgen), interleaved, RUNS=2 × REPS=3 rounds (about 25
## min); prints medians, ratios and the goals. Not in CI. ONLY=idle (or any
## of bench.sh's run names) for a subset.
bench-load:
	bash scripts/bench-load.sh

clean:
	rm -rf bin
