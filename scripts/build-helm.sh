#!/usr/bin/env bash
# Build helm from its Go module (helm.sh/helm/v3) into a cache dir, for the chart's checks
# (`helm template`, `helm lint`). Only the Go module proxy is needed.
#
#   scripts/build-helm.sh            # build if missing or another version, else no-op
#   scripts/build-helm.sh --force    # rebuild
#   scripts/build-helm.sh --print    # print the binary's path (no build); exit 1 if not built
#
# Environment:
#   PORTLB_BIN_CACHE     cache dir (default /var/cache/portlb/bin)
#   PORTLB_HELM_VERSION  helm.sh/helm/v3 version (default pinned below)
#   GO                   go binary (default /usr/local/go/bin/go, else `go` on PATH)
set -euo pipefail
# shellcheck source=lib/build.sh
source "$(dirname "$0")/lib/build.sh"

HELM_VERSION="${PORTLB_HELM_VERSION:-v3.22.0}"
BIN="${PORTLB_BIN_CACHE:-/var/cache/portlb/bin}"
HELM="$BIN/helm"
# What the binary was built as: the version, and the Kubernetes version helm assumes without a
# cluster (`helm template`'s .Capabilities.KubeVersion), which helm's Makefile takes from client-go.
STAMP="$BIN/helm.stamp"

parse_build_args build-helm 2,13 "$@"

log() { printf 'build-helm: %s\n' "$*" >&2; }
up_to_date() {
  [[ -x "$HELM" && -f "$STAMP" ]] && [[ "$(cut -d' ' -f1 "$STAMP")" == "$HELM_VERSION" ]] &&
    [[ "$("$HELM" version --template '{{.Version}}' 2>/dev/null)" == "$HELM_VERSION" ]]
}

if [[ $PRINT_ONLY == 1 ]]; then
  up_to_date || { log "helm $HELM_VERSION not built; run scripts/build-helm.sh"; exit 1; }
  echo "$HELM"
  exit 0
fi
if [[ $FORCE == 0 ]] && up_to_date; then
  log "helm $HELM_VERSION up to date: $HELM"
  echo "$HELM"
  exit 0
fi

mkdir -p "$BIN"
exec 9>"$BIN/.helm.lock"
if ! flock -n 9; then
  log "another build holds $BIN/.helm.lock; waiting..."
  flock 9
fi
if [[ $FORCE == 0 ]] && up_to_date; then echo "$HELM"; exit 0; fi

find_go

start=$(date +%s)
tmp=$(mktemp -d "$BIN/.helm-build.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
log "building helm $HELM_VERSION with $("$GO" env GOVERSION) (go install, nice -n 10; a few minutes cold)..."
gomod=$(cd "$tmp" && "$GO" mod download -json "helm.sh/helm/v3@$HELM_VERSION" |
  sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
k8s_minor=$(sed -n 's/^[[:space:]]*k8s.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$gomod" | head -1)
[[ -n "$k8s_minor" ]] || { log "no k8s.io/client-go requirement in $gomod"; exit 1; }
# The -X flags of helm's own Makefile: its version, and Kubernetes 1.<client-go's minor>.
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
  ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
done
GOBIN="$tmp" nice -n 10 "$GO" install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
got=$("$tmp/helm" version --template '{{.Version}}')
[[ "$got" == "$HELM_VERSION" ]] || { log "built helm says $got, not $HELM_VERSION"; exit 1; }
mv -f -- "$tmp/helm" "$HELM"
echo "$HELM_VERSION kubernetes 1.$k8s_minor" >"$STAMP"
log "helm $HELM_VERSION done in $(( $(date +%s) - start )) s: $HELM"
echo "$HELM"
