# servingsim: Knative Serving in one Go process. `make help` lists the targets.
SHELL := /usr/bin/env bash
GO ?= go
TOOLS := $(GO) tool -modfile=tools/codegen/go.mod
ENVTEST_ASSETS = $(shell hack/envtest-assets.sh --print)
export KUBEBUILDER_ASSETS ?= $(ENVTEST_ASSETS)

.PHONY: help
help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

.PHONY: envtest
envtest: ## build (once) and cache kube-apiserver, etcd and kubectl from source
	@hack/envtest-assets.sh >/dev/null

.PHONY: build
build: ## build bin/simctl
	$(GO) build -o bin/simctl ./cmd/simctl

.PHONY: generate
generate: ## regenerate deepcopy code and CRD YAML with controller-gen
	$(TOOLS) controller-gen object paths=./stack/apis/...
	$(TOOLS) controller-gen crd paths=./stack/apis/... output:crd:artifacts:config=stack/apis/crds

.PHONY: verify-generate
verify-generate: generate ## fail if generated files are out of date
	@git diff --exit-code -- stack/apis || { echo "generated files are stale: run 'make generate' and commit"; exit 1; }

.PHONY: lint
lint: ## gofmt, go vet, golangci-lint
	@out=$$(gofmt -l $$(git ls-files '*.go')); [ -z "$$out" ] || { echo "gofmt needed: $$out"; exit 1; }
	$(GO) vet ./...
	$(TOOLS) golangci-lint run ./...

.PHONY: test
test: envtest ## run every test (unit, envtest suites); the README's test command
	@# Build every test binary in parallel, then run the packages one at a time: the live suites
	@# measure latencies and pod timings, which two stacks sharing 2 cores would distort.
	$(GO) test -count=1 -run '^$$' ./... >/dev/null
	$(GO) test -p 1 -count=1 -timeout 25m ./...

.PHONY: bench
bench: envtest ## run benchmarks (numbers go in docs/benchmarks.md)
	$(GO) test -run '^$$' -bench . -timeout 30m $$($(GO) list ./... | grep -v -e '/harness$$' -e '/harness/e2e$$')
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./harness/ ./harness/e2e/

.PHONY: run
run: envtest build ## run the main job on the embedded default
	bin/simctl run

.PHONY: up
up: envtest build ## start the stack and keep it running until Ctrl-C
	bin/simctl up
