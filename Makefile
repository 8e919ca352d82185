# satellite-operator Makefile. Tools are pinned and built into ./bin from the Go module proxy.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

LOCALBIN ?= $(shell pwd)/bin
CONTROLLER_TOOLS_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION ?= v2.15.0
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
HELM_VERSION ?= v3.22.0
HELM ?= $(LOCALBIN)/helm-$(HELM_VERSION)
CRD_REF_DOCS_VERSION ?= v0.3.0
CRD_REF_DOCS ?= $(LOCALBIN)/crd-ref-docs-$(CRD_REF_DOCS_VERSION)
# promtool checks the shipped alerts and runs their fixtures; v0.316.0 is Prometheus v3.
PROMTOOL_VERSION ?= v0.316.0
PROMTOOL ?= $(LOCALBIN)/promtool-$(PROMTOOL_VERSION)
PROMETHEUS_RULES := config/helm/satellite-operator/files/prometheus-rules.yaml
# The Kubernetes version `helm lint` and `helm template` assume: a helm built by `go install` says
# v1.20 otherwise, below the charts' kubeVersion. It is the version the tests run.
HELM_KUBE_VERSION ?= v1.37.2
KUBECTL ?= kubectl

IMG ?= ghcr.io/checkstack/satellite-operator:latest
SATELLITE_IMG ?= ghcr.io/checkstack/satellite:latest
# Test packages run in parallel; each starts its own control plane.
TEST_FLAGS ?= -race -count=1
BENCH ?= .
OPERATOR_CHART := config/helm/satellite-operator
SATELLITE_CHART := config/helm/satellite

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate CRDs and RBAC from the markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./api/...;./controllers/...;./internal/..." \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
	hack/helm-crds.sh

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate the DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: docs
docs: $(CRD_REF_DOCS) ## Generate the API reference docs/api.md from the API types' doc comments and markers.
	$(CRD_REF_DOCS) --source-path=./api/v1alpha1 --config=docs/crd-ref-docs.yaml --renderer=markdown \
		--templates-dir=docs/crd-ref-docs --output-path=docs/api.md --log-level=WARN

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: $(GOLANGCI_LINT) ## Run golangci-lint.
	$(GOLANGCI_LINT) run ./...

.PHONY: envtest
envtest: ## Build kube-apiserver and etcd for the tests into bin/k8s (cached).
	@hack/setup-envtest.sh >/dev/null

.PHONY: test
test: manifests generate envtest test-rules ## Run all tests against a real kube-apiserver and etcd, and the alerts' fixtures.
	KUBEBUILDER_ASSETS="$$(hack/setup-envtest.sh)" go test $(TEST_FLAGS) ./...

.PHONY: test-rules
test-rules: $(PROMTOOL) ## Check the shipped Prometheus alerts and run their promtool fixtures (config/prometheus/tests).
	$(PROMTOOL) check rules $(PROMETHEUS_RULES)
	cd config/prometheus/tests && $(PROMTOOL) test rules *.yaml

.PHONY: bench
bench: envtest ## Run the benchmarks.
	KUBEBUILDER_ASSETS="$$(hack/setup-envtest.sh)" go test -run '^$$' -bench '$(BENCH)' -benchmem ./...

.PHONY: bench-agent
bench-agent: envtest ## Load-test one agent with 1,000 HTTP checks against blackbox_exporter as the baseline (test/performance/agent).
	KUBEBUILDER_ASSETS="$$(hack/setup-envtest.sh)" go run ./test/performance/agent $(BENCH_AGENT_FLAGS)

.PHONY: bench-fleet
bench-fleet: envtest ## Load-test the manager with 1,000 and 10,000 WebSocket satellites against a bare gorilla server as the baseline (test/performance/fleet).
	KUBEBUILDER_ASSETS="$$(hack/setup-envtest.sh)" go run ./test/performance/fleet $(BENCH_FLEET_FLAGS)

.PHONY: verify
verify: manifests generate docs fmt vet lint ## Fail when generated or formatted files are out of date, or lint fails.
	@if [ -n "$$(git status --porcelain -- api config controllers internal cmd hack docs)" ]; then \
		echo "Generated or formatted files are out of date; run 'make manifests generate docs fmt' and commit:"; \
		git status --porcelain -- api config controllers internal cmd hack docs; exit 1; fi

.PHONY: helm-crds
helm-crds: ## Copy the CRDs, the ClusterRole's rules and the Grafana dashboard into the operator chart.
	hack/helm-crds.sh

.PHONY: helm-lint
helm-lint: $(HELM) ## Lint both charts strictly and render them with default values and with every option on.
	hack/helm-values-doc.sh $(OPERATOR_CHART) $(SATELLITE_CHART)
	$(HELM) lint --strict --kube-version $(HELM_KUBE_VERSION) $(OPERATOR_CHART)
	$(HELM) lint --strict --kube-version $(HELM_KUBE_VERSION) $(OPERATOR_CHART) -f $(OPERATOR_CHART)/ci/all-values.yaml
	$(HELM) lint --strict --kube-version $(HELM_KUBE_VERSION) $(OPERATOR_CHART) -f $(OPERATOR_CHART)/ci/watch-namespaces-values.yaml
	$(HELM) lint --strict --kube-version $(HELM_KUBE_VERSION) $(SATELLITE_CHART) -f $(SATELLITE_CHART)/ci/default-values.yaml
	$(HELM) lint --strict --kube-version $(HELM_KUBE_VERSION) $(SATELLITE_CHART) -f $(SATELLITE_CHART)/ci/all-values.yaml
	$(HELM) template lint --kube-version $(HELM_KUBE_VERSION) $(OPERATOR_CHART) >/dev/null
	$(HELM) template lint --kube-version $(HELM_KUBE_VERSION) $(OPERATOR_CHART) -f $(OPERATOR_CHART)/ci/all-values.yaml >/dev/null
	$(HELM) template lint --kube-version $(HELM_KUBE_VERSION) $(OPERATOR_CHART) -f $(OPERATOR_CHART)/ci/watch-namespaces-values.yaml >/dev/null
	$(HELM) template lint --kube-version $(HELM_KUBE_VERSION) $(SATELLITE_CHART) -f $(SATELLITE_CHART)/ci/default-values.yaml >/dev/null
	$(HELM) template lint --kube-version $(HELM_KUBE_VERSION) $(SATELLITE_CHART) -f $(SATELLITE_CHART)/ci/all-values.yaml >/dev/null
	@# The satellite chart has no usable defaults: it must refuse to render, saying what is missing.
	@if out="$$($(HELM) template lint --kube-version $(HELM_KUBE_VERSION) $(SATELLITE_CHART) 2>&1)"; then \
		echo "$(SATELLITE_CHART) rendered without coreURL"; exit 1; fi; \
		grep -q 'coreURL is required' <<<"$$out" || { echo "$$out"; exit 1; }

.PHONY: helm-dry-run
helm-dry-run: $(HELM) ## Render both charts and have the KUBECONFIG's cluster validate them in NAMESPACE (restricted Pod Security; any warning fails).
	HELM=$(HELM) KUBECTL=$(KUBECTL) hack/helm-dry-run.sh $(OPERATOR_CHART) $(SATELLITE_CHART)

##@ Build

.PHONY: build
build: manifests generate ## Build the manager and agent binaries.
	go build -o $(LOCALBIN)/manager ./cmd/manager
	go build -o $(LOCALBIN)/satellite ./cmd/satellite

.PHONY: run
run: manifests generate ## Run the manager against the kubeconfig's cluster, or a local control plane when there is none.
	hack/run.sh

.PHONY: docker-build
docker-build: ## Build the manager and agent images (needs a Docker engine).
	docker build -t $(IMG) .
	docker build -t $(SATELLITE_IMG) -f Dockerfile.satellite .

##@ Tools

$(CONTROLLER_GEN):
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)
	mv $(LOCALBIN)/controller-gen $@

$(HELM):
	GOBIN=$(LOCALBIN) go install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	mv $(LOCALBIN)/helm $@

$(GOLANGCI_LINT):
	GOBIN=$(LOCALBIN) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(LOCALBIN)/golangci-lint $@

# Built outside this module (go install pkg@version), so Prometheus' dependencies never meet ours.
$(PROMTOOL):
	GOBIN=$(LOCALBIN) GOFLAGS=-mod=mod go install github.com/prometheus/prometheus/cmd/promtool@$(PROMTOOL_VERSION)
	mv $(LOCALBIN)/promtool $@

$(CRD_REF_DOCS):
	GOBIN=$(LOCALBIN) go install github.com/elastic/crd-ref-docs@$(CRD_REF_DOCS_VERSION)
	mv $(LOCALBIN)/crd-ref-docs $@
