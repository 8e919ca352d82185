#!/usr/bin/env bash
# helm-dry-run.sh renders the satellite-operator and satellite charts, with default values and with
# every option on (ci/*-values.yaml), and has the cluster of KUBECONFIG validate each object with
# `kubectl apply --dry-run=server`: schemas, CRDs and admission, nothing persisted. The
# ServiceMonitor and the PrometheusRule are rendered only where their CRDs exist.
# NAMESPACE must exist and carry pod-security.kubernetes.io/warn=restricted (and enforce, to be
# sure): the API server then warns about every pod template short of the restricted Pod Security
# Standard, and any warning fails the run.
# Usage: NAMESPACE=ns HELM=bin/helm KUBECTL=kubectl hack/helm-dry-run.sh OPERATOR_CHART SATELLITE_CHART
set -euo pipefail

operator="${1:?usage: $0 OPERATOR_CHART SATELLITE_CHART}"
satellite="${2:?usage: $0 OPERATOR_CHART SATELLITE_CHART}"
helm="${HELM:-helm}"
kubectl="${KUBECTL:-kubectl}"
namespace="${NAMESPACE:?NAMESPACE must name a namespace labelled pod-security.kubernetes.io/warn=restricted}"

# The server's version, which `helm template` cannot ask for itself.
kube_version="$("${kubectl}" version -o json | sed -n 's/^ *"gitVersion": *"\(v[^"]*\)".*/\1/p' | tail -n 1)"
[[ -n "${kube_version}" ]] || { echo "helm-dry-run: cannot read the server's version" >&2; exit 1; }

level="$("${kubectl}" get namespace "${namespace}" -o jsonpath='{.metadata.labels.pod-security\.kubernetes\.io/warn}')"
if [[ "${level}" != restricted ]]; then
  echo "helm-dry-run: namespace ${namespace} must warn at the restricted level:" >&2
  echo "  kubectl label namespace ${namespace} pod-security.kubernetes.io/warn=restricted pod-security.kubernetes.io/enforce=restricted" >&2
  exit 1
fi

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

warnings="$(mktemp)"
trap 'rm -f "${warnings}"' EXIT

# dry_run RELEASE CHART HELM_ARGS... renders the chart and validates what it renders; a warning
# (Pod Security, a deprecated API) fails it.
dry_run() {
  local release="$1" chart="$2"
  shift 2
  echo "helm-dry-run: ${chart} $*"
  "${helm}" template "${release}" "${chart}" --namespace "${namespace}" --kube-version "${kube_version}" "$@" |
    "${kubectl}" apply --dry-run=server --namespace "${namespace}" -f - 2>"${warnings}" || { cat "${warnings}" >&2; return 1; }
  # kubectl's own note on objects created without apply (a cluster with the release installed) is
  # about kubectl, not the chart; every other line is the API server's.
  if grep -v 'last-applied-configuration annotation' "${warnings}" | grep -q .; then
    cat "${warnings}" >&2
    echo "helm-dry-run: ${chart} $*: the API server warned" >&2
    return 1
  fi
}

dry_run satellite-operator "${operator}"
dry_run satellite-operator "${operator}" -f "${operator}/ci/all-values.yaml" \
  --set metrics.serviceMonitor.enabled="${servicemonitor}",prometheusRule.enabled="${prometheusrule}"
# kubectl refuses objects of another namespace than --namespace: confine the operator to this one.
dry_run satellite-operator "${operator}" -f "${operator}/ci/watch-namespaces-values.yaml" --set "manager.watchNamespaces={${namespace}}"
dry_run satellite "${satellite}" -f "${satellite}/ci/default-values.yaml"
dry_run satellite "${satellite}" -f "${satellite}/ci/all-values.yaml"
