# reactivator's build, test and benchmark targets. `make help` lists them.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X reactivator/internal/version.Version=$(VERSION)
BIN      := bin/reactivator

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-13s %s\n", $$1, $$2}'

.PHONY: deps
deps: ## install what the tests need when missing (redis-server, chromium, promtool); without apt-get, say what and how
	@bash .ci/deps

.PHONY: build
build: ## build bin/reactivator
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/reactivator

.PHONY: test
test: deps ## run every test with the race detector (what CI runs), and check the deploy kits
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...
	$(MAKE) --no-print-directory check-deploy

.PHONY: check-deploy
check-deploy: deps ## check deploy/: kustomize build, strict Kubernetes types and kubeconform, promtool on the alert rules
	cd deploy && $(GO) vet ./... && $(GO) test -count=1 ./...
	cd deploy/prometheus && promtool check rules reactivator-rules.yaml && promtool test rules reactivator-rules.test.yaml

.PHONY: chaos
chaos: deps ## kill workers, restart Redis, break providers, revoke credentials, cancel: audit every row, print the table (~4 min)
	REACTIVATOR_CHAOS=1 $(GO) test -count=1 -run '^TestChaos$$' -timeout 12m -v ./internal/chaos

FUZZTIME ?= 20s

.PHONY: fuzz
fuzz: ## run each fuzz target for FUZZTIME (20s): the CSV reader and both error-body classifiers
	$(GO) test -run '^$$' -fuzz '^FuzzReader$$' -fuzztime $(FUZZTIME) ./ingest
	$(GO) test -run '^$$' -fuzz '^FuzzClassify$$' -fuzztime $(FUZZTIME) ./worker/stytch
	$(GO) test -run '^$$' -fuzz '^FuzzClassify$$' -fuzztime $(FUZZTIME) ./worker/zitadel

.PHONY: lint
lint: ## go vet, staticcheck and gofmt
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }

.PHONY: bench
bench: deps ## print the performance tables (ingest, workers, plan, find, rows by email)
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./...

.PHONY: bench-large
bench-large: deps ## ten million rows: the ingest table (the asynq loops need 9 GB of Redis), then ingested, drained by a worker and pruned (hours)
	REACTIVATOR_BENCH_ROWS=10000000 $(GO) test -run '^$$' -bench IngestTable -benchtime 1x -timeout 120m ./ingest
	REACTIVATOR_RETENTION_ROWS=10000000 $(GO) test -run '^$$' -bench RetentionBytes -benchtime 1x -timeout 600m ./jobs

.PHONY: demo
demo: ## run everything in one process against the built-in fake providers
	$(GO) run ./cmd/reactivator demo
