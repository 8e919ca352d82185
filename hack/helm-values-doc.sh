#!/usr/bin/env bash
# helm-values-doc.sh fails when a key of a chart's values.yaml has no `##` comment: the line
# before each key (blank lines aside) must be a `##` comment, so every value is documented where
# users read it. Usage: hack/helm-values-doc.sh CHART_DIR...
set -euo pipefail

status=0
for chart in "$@"; do
  awk -v file="${chart}/values.yaml" '
    /^[[:space:]]*$/ { next }
    /^[[:space:]]*#/ { documented = ($0 ~ /^[[:space:]]*##/); next }
    # A key: an indented or top-level "name:", not a list item or a continuation.
    /^[[:space:]]*[A-Za-z0-9_."\/-]+:([[:space:]]|$)/ {
      if (!documented) { printf "%s:%d: value without a ## comment: %s\n", file, NR, $0; bad = 1 }
      documented = 0
      next
    }
    { documented = 0 }
    END { exit bad }
  ' "${chart}/values.yaml" || status=1
done
exit "${status}"
