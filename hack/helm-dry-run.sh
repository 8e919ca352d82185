#!/usr/bin/env bash
# helm-dry-run.sh renders the satellite-operator and satellite charts, with default values and with
# every option on (ci/*-values.yaml), and has the cluster of KUBECONFIG validate each object with
# `kubectl apply --dry-run=server`: schemas, CRDs and admission, nothing persisted. The
# ServiceMonitor and the PrometheusRule are rendered only where their CRDs exist.
# Usage: HELM=bin/helm KUBECTL=kubectl hack/helm-dry-run.sh OPERATOR_CHART SATELLITE_CHART
# NAMESPACE (default: default) must exist; the charts' objects are validated in it.
set -euo pipefail

operator="${1:?usage: $0 OPERATOR_CHART SATELLITE_CHART}"
satellite="${2:?usage: $0 OPERATOR_CHART SATELLITE_CHART}"
helm="${HELM:-helm}"
kubectl="${KUBECTL:-kubectl}"
namespace="${NAMESPACE:-default}"

# The server's version, which `helm template` cannot ask for itself.
kube_version="$("${kubectl}" version -o json | sed -n 's/^ *"gitVersion": *"\(v[^"]*\)".*/\1/p' | tail -n 1)"
[[ -n "${kube_version}" ]] || { echo "helm-dry-run: cannot read the server's version" >&2; exit 1; }

servicemonitor=false
if "${kubectl}" get crd servicemonitors.monitoring.coreos.com >/dev/null 2>&1; then
  servicemonitor=true
else
  echo "helm-dry-run: no ServiceMonitor CRD in this cluster; validating without the ServiceMonitor"
fi
prometheusrule=false
if "${kubectl}" get crd prometheusrules.monitoring.coreos.com >/dev/null 2>&1; then
  prometheusrule=true
else
  echo "helm-dry-run: no PrometheusRule CRD in this cluster; validating without the PrometheusRule"
fi

# dry_run RELEASE CHART HELM_ARGS... renders the chart and validates what it renders.
dry_run() {
  local release="$1" chart="$2"
  shift 2
  echo "helm-dry-run: ${chart} $*"
  "${helm}" template "${release}" "${chart}" --namespace "${namespace}" --kube-version "${kube_version}" "$@" |
    "${kubectl}" apply --dry-run=server --namespace "${namespace}" -f -
}

dry_run satellite-operator "${operator}"
dry_run satellite-operator "${operator}" -f "${operator}/ci/all-values.yaml" \
  --set metrics.serviceMonitor.enabled="${servicemonitor}",prometheusRule.enabled="${prometheusrule}"
dry_run satellite "${satellite}" -f "${satellite}/ci/default-values.yaml"
dry_run satellite "${satellite}" -f "${satellite}/ci/all-values.yaml"
