#!/usr/bin/env bash
# run.sh is `make run`: the manager against the kubeconfig's cluster (after installing the
# CRDs there), or, when no cluster is configured, against a local control plane it starts.
# Arguments are passed to the manager.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

go build -o bin/manager ./cmd/manager
if kubectl config current-context >/dev/null 2>&1; then
  echo "run: using the cluster of kubectl context $(kubectl config current-context)"
  kubectl apply --server-side -k config/crd
  exec bin/manager "$@"
fi

echo "run: no cluster is configured; starting a local control plane"
assets="$(hack/setup-envtest.sh)"
go build -o bin/localcluster ./hack/localcluster
KUBEBUILDER_ASSETS="${assets}" exec bin/localcluster --manager bin/manager -- "$@"
