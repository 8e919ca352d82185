#!/usr/bin/env bash
# run.sh is `make run`: it installs the CRDs and the samples, and runs the manager and one local
# satellite agent, against the kubeconfig's cluster or, when no cluster is configured, against a
# local control plane it starts. Arguments are passed to the manager.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

go build -o bin/manager ./cmd/manager
go build -o bin/satellite ./cmd/satellite
go build -o bin/demo ./hack/demo
if kubectl config current-context >/dev/null 2>&1; then
  echo "run: using the cluster of kubectl context $(kubectl config current-context)"
  exec bin/demo --manager bin/manager --agent bin/satellite -- "$@"
fi
echo "run: no cluster is configured; starting a local control plane"
echo "make run: a local control plane of kube-apiserver and etcd only. It has no garbage collector:" >&2
echo "  deleting a Satellite leaves its token Secret, so delete <name>-token before re-creating it" >&2
echo "  (else SecretConflict), and Deployments get no pods. See README.md#trying-it-locally." >&2
KUBEBUILDER_ASSETS="$(hack/setup-envtest.sh)" exec bin/demo --local --manager bin/manager --agent bin/satellite -- "$@"
