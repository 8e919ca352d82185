#!/usr/bin/env bash
# setup-envtest.sh builds the control-plane binaries that envtest runs (kube-apiserver and etcd)
# from the Go module proxy, because no download site is reachable from CI. The build is cached:
# a second run with the same versions returns at once. It prints the directory that holds the
# binaries, for KUBEBUILDER_ASSETS.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-3.6.16}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${ENVTEST_ASSETS_DIR:-${root}/bin/k8s}"
work="${root}/bin/.envtest-build"
stamp="${out}/.versions"
want="kube-apiserver=${K8S_VERSION} etcd=${ETCD_VERSION}"

if [[ -x "${out}/kube-apiserver" && -x "${out}/etcd" && -f "${stamp}" && "$(cat "${stamp}")" == "${want}" ]]; then
  echo "${out}"
  exit 0
fi

log() { echo "setup-envtest: $*" >&2; }
mkdir -p "${out}" "${work}"
# Test packages run in parallel and may all ask at once: one builds, the others wait for it.
exec 9>"${out}/.lock"
flock 9
if [[ -x "${out}/kube-apiserver" && -x "${out}/etcd" && -f "${stamp}" && "$(cat "${stamp}")" == "${want}" ]]; then
  echo "${out}"
  exit 0
fi
export GOFLAGS=-mod=mod CGO_ENABLED=0

build_etcd() {
  local dir="${work}/etcd"
  rm -rf "${dir}" && mkdir -p "${dir}"
  cat >"${dir}/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (
    cd "${dir}"
    go mod init envtest/etcd >/dev/null 2>&1
    go get "go.etcd.io/etcd/server/v3@v${ETCD_VERSION}" >&2
    go mod tidy >&2
    go build -trimpath -ldflags=-s -o "${out}/etcd" .
  )
}

build_apiserver() {
  local dir="${work}/kube-apiserver" minor="${K8S_VERSION#*.}"
  minor="${minor%%.*}"
  rm -rf "${dir}" && mkdir -p "${dir}"
  cat >"${dir}/main.go" <<'GO'
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() { os.Exit(cli.Run(app.NewAPIServerCommand())) }
GO
  (
    cd "${dir}"
    go mod init envtest/kube-apiserver >/dev/null 2>&1
    # k8s.io/kubernetes points its staging modules at ./staging; as a dependency those paths do
    # not exist, so each one is replaced by the published module of the matching version.
    local gomod
    gomod="$(go mod download -json "k8s.io/kubernetes@v${K8S_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')"
    local args=()
    while read -r mod; do
      args+=("-replace=${mod}=${mod}@v0.${K8S_VERSION#*.}")
    done < <(sed -n 's#^[[:space:]]*\(k8s.io/[^[:space:]]*\) => \./staging/.*#\1#p' "${gomod}")
    go mod edit -require="k8s.io/kubernetes@v${K8S_VERSION}" "${args[@]}"
    go mod tidy >&2
    local pkg=k8s.io/component-base/version
    go build -trimpath -o "${out}/kube-apiserver" \
      -ldflags "-s -X ${pkg}.gitVersion=v${K8S_VERSION} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${minor}" .
  )
}

log "building etcd v${ETCD_VERSION} and kube-apiserver v${K8S_VERSION} (first run only; several minutes)"
build_etcd
build_apiserver
echo "${want}" >"${stamp}"
echo "${out}"
