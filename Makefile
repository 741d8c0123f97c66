# Foresight — the two commands a new user needs are `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
GOBIN := $(shell $(GO) env GOPATH)/bin
STATICCHECK_VERSION := v0.8.2
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: run build test lint crash-test influxdb-start influxdb-stop bench clean

## build: the foresight binary in ./bin
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/foresight ./cmd/foresight

## run: the server on the embedded store, preloaded with the demo fleet
run: build
	FORESIGHT_DEMO_PRELOAD=$${FORESIGHT_DEMO_PRELOAD:-true} ./bin/foresight serve

## test: the whole suite; starts a real InfluxDB (installing it if missing)
test:
	bash scripts/test.sh

## crash-test: kill -9 the server mid-delivery and restart it, 20 times in a row (~9 min)
crash-test:
	FORESIGHT_CRASH_ITERATIONS=20 $(GO) test -count=1 -timeout 20m -run TestCrashKillMidDeliveryAndRestart -v ./cmd/foresight/

## lint: go vet and staticcheck (installed if missing)
lint:
	$(GO) vet ./...
	@test -x $(GOBIN)/staticcheck || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(GOBIN)/staticcheck ./...

influxdb-start:
	bash scripts/influxdb.sh start

influxdb-stop:
	bash scripts/influxdb.sh stop

## bench: Go benchmarks (not part of make test)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin

## bench-api: load-test the HTTP API of a local demo server (closed loop, 200 clients, 30 s; open loop, 1,000 req/s, 60 s)
.PHONY: bench-api
bench-api:
	bash scripts/bench-api.sh

## notebooks: re-execute the analyses in notebooks/ (Markdown + PNG figures; `go test ./notebooks/` checks they are current)
.PHONY: notebooks
notebooks:
	$(GO) run ./notebooks/monthend -out notebooks/monthend
	$(GO) run ./notebooks/disk -out notebooks/disk
	$(GO) run ./notebooks/memleak -out notebooks/memleak

## fuzz: every fuzz target for 10 s each (scripts/fuzz.sh; FUZZTIME=60 make fuzz for longer)
.PHONY: fuzz docker
FUZZTIME ?= 10
fuzz:
	bash scripts/fuzz.sh $(FUZZTIME)

## docker: the container image foresight:dev (deploy/Dockerfile, build context: the repository)
docker:
	docker build -f deploy/Dockerfile -t foresight:dev .

.PHONY: web screenshots

## web: rebuild the web console's assets in web/dist (npm ci && npm run build)
web:
	bash scripts/browser.sh web-build

## screenshots: every console page in headless Chromium, saved to web/screenshots/
screenshots:
	rm -f web/screenshots/*.png
	FORESIGHT_CHROMIUM=$$(bash scripts/browser.sh install) FORESIGHT_REQUIRE_BROWSER=1 \
		FORESIGHT_SCREENSHOTS=$(CURDIR)/web/screenshots $(GO) test -count=1 -run TestConsole ./web/

## bench-jobs: one forecast job over 5,000 generated series (30 days at 5 min) in the private InfluxDB, loaded first
bench-jobs: build
	bash scripts/influxdb.sh start
	eval "$$(bash scripts/influxdb.sh env)" && ./bin/foresight bench jobs -influx-url "$$FORESIGHT_INFLUX_URL" -load

## bench-ingest: sustained writes through POST /api/v2/write (8 clients, 5,000-point batches, 60 s) on the embedded store, then on the private InfluxDB
.PHONY: bench-ingest
bench-ingest:
	bash scripts/bench-ingest.sh

## fault-test: the fault tests, including the one that restarts the machine's PostgreSQL mid-run (not in `make test`: run it alone)
.PHONY: fault-test
fault-test:
	bash scripts/fault-test.sh
