#!/usr/bin/env bash
# Build a real kube-apiserver and etcd from Go module sources into a cache dir.
#
#   scripts/build-kube.sh            # build if missing / version mismatch, else no-op
#   scripts/build-kube.sh --force    # rebuild both
#   scripts/build-kube.sh --print    # print the two binary paths (no build); exit 1 if not built
#
# Environment:
#   PORTLB_KUBE_CACHE    cache dir (default /var/cache/portlb/kube)
#   PORTLB_KUBE_VERSION  k8s.io/kubernetes version (default pinned below)
#   PORTLB_ETCD_VERSION  go.etcd.io/etcd/server/v3 version (default pinned below)
#   GO                   go binary (default /usr/local/go/bin/go, else `go` on PATH)
#
# Results:
#   $CACHE/bin/kube-apiserver, $CACHE/bin/etcd, and the stamp file $CACHE/versions
#   ("kube-apiserver vX.Y.Z" / "etcd vX.Y.Z" lines, plus informational "go ...").
#
# Only the Go module proxy is needed (no git, no codegen, no docker). Cold build of
# kube-apiserver takes ~10 min on 2 cores; GOCACHE/GOMODCACHE stay at their defaults
# so later rebuilds are incremental.
set -euo pipefail
# shellcheck source=lib/build.sh
source "$(dirname "$0")/lib/build.sh"

# Pinned versions. kube: latest v1.34 patch on the Go proxy. etcd: the version that
# k8s v1.34.4 itself tests against (hack/lib/etcd.sh, kubeadm DefaultEtcdVersion 3.6.5).
KUBE_VERSION="${PORTLB_KUBE_VERSION:-v1.34.4}"
ETCD_VERSION="${PORTLB_ETCD_VERSION:-v3.6.5}"
CACHE="${PORTLB_KUBE_CACHE:-/var/cache/portlb/kube}"

parse_build_args build-kube 2,20 "$@"

BIN="$CACHE/bin"
STAMP="$CACHE/versions"
APISERVER="$BIN/kube-apiserver"
ETCD="$BIN/etcd"

log() { printf 'build-kube: %s\n' "$*" >&2; }

# stamp_has NAME VERSION -> true if the stamp file records NAME at VERSION
stamp_has() {
  [[ -f "$STAMP" ]] && grep -qxF "$1 $2" "$STAMP"
}
apiserver_ok() { [[ -x "$APISERVER" ]] && stamp_has kube-apiserver "$KUBE_VERSION"; }
etcd_ok()      { [[ -x "$ETCD" ]] && stamp_has etcd "$ETCD_VERSION"; }

report() {
  log "kube-apiserver $KUBE_VERSION: $APISERVER"
  log "etcd $ETCD_VERSION: $ETCD"
  printf '%s\n%s\n' "$APISERVER" "$ETCD"
}

if [[ $PRINT_ONLY == 1 ]]; then
  if apiserver_ok && etcd_ok; then report; exit 0; fi
  log "not built (or stale); run scripts/build-kube.sh"
  exit 1
fi

# Fast path: nothing to do, no lock, no go invocation.
if [[ $FORCE == 0 ]] && apiserver_ok && etcd_ok; then
  log "up to date"
  report
  exit 0
fi

# ---------------------------------------------------------------------------
mkdir -p "$BIN" "$CACHE/src"
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
  log "another build holds $CACHE/.lock; waiting..."
  flock 9
fi

find_go
GO_VERSION=$("$GO" env GOVERSION)
log "using $GO ($GO_VERSION), cache $CACHE"

TMPFILES=()
cleanup() { local f; for f in "${TMPFILES[@]:-}"; do [[ -n "$f" ]] && rm -f -- "$f"; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM
# Leftovers of a killed earlier run (we hold the lock, so nobody else is writing these).
rm -f -- "$BIN"/.*.tmp.* "$STAMP".tmp.*

# set_stamp NAME VERSION: atomically rewrite the stamp file with NAME's line updated.
set_stamp() {
  local tmp="$STAMP.tmp.$$"
  {
    [[ -f "$STAMP" ]] && grep -v -e "^$1 " -e '^go ' "$STAMP" || true
    echo "$1 $2"
    echo "go $GO_VERSION"
  } >"$tmp"
  mv -f -- "$tmp" "$STAMP"
}

# write_if_changed FILE: stdin -> FILE, only touching it if the content differs.
write_if_changed() {
  local f="$1" tmp="$1.tmp.$$"
  cat >"$tmp"
  if [[ -f "$f" ]] && cmp -s "$tmp" "$f"; then rm -f -- "$tmp"; else mv -f -- "$tmp" "$f"; fi
}

elapsed() { local s=$(( $(date +%s) - $1 )); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

# ---------------------------------------------------------------------------
build_apiserver() {
  local start; start=$(date +%s)
  local staging_version="v0.${KUBE_VERSION#v1.}"   # v1.34.4 -> v0.34.4
  local dir="$CACHE/src/kube-apiserver"
  mkdir -p "$dir"
  log "building kube-apiserver $KUBE_VERSION, ~10 min cold..."

  # k8s.io/kubernetes requires its staging repos at the non-existent v0.0.0
  # (kubernetes/kubernetes#79384); its own replace directives point into ./staging and
  # are ignored for a dependency. Read the list of those modules off this version's
  # go.mod and replace each with the published k8s.io/X $staging_version.
  local gomod
  gomod=$(cd "$dir" && "$GO" mod download -json "k8s.io/kubernetes@$KUBE_VERSION" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  [[ -f "$gomod" ]] || { log "could not locate go.mod of k8s.io/kubernetes@$KUBE_VERSION"; exit 1; }
  local staging
  staging=$(awk '
    /^replace[[:space:]]*\(/ { inrep = 1; next }
    inrep && /^\)/ { inrep = 0; next }
    inrep || /^replace[[:space:]]/ { next }
    {
      sub(/\/\/.*/, "")
      for (i = 1; i < NF; i++)
        if ($i ~ /^k8s\.io\// && $(i + 1) == "v0.0.0") print $i
    }' "$gomod" | sort -u)
  [[ -n "$staging" ]] || { log "found no v0.0.0 staging requirements in $gomod"; exit 1; }
  log "  replacing $(wc -w <<<"$staging") staging modules with $staging_version"

  {
    echo "module portlb.local/kube-apiserver-build"
    echo
    echo "go 1.24.0"
    echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo
    echo "replace ("
    local m
    for m in $staging; do echo "	$m => $m $staging_version"; done
    echo ")"
  } >"$dir/go.mod.want"
  # Start from a clean module definition whenever the pins change.
  if ! cmp -s "$dir/go.mod.want" "$dir/go.mod.pinned" 2>/dev/null; then
    rm -f "$dir/go.sum"
    cp "$dir/go.mod.want" "$dir/go.mod"
    mv -f "$dir/go.mod.want" "$dir/go.mod.pinned"
  else
    rm -f "$dir/go.mod.want"
  fi

  log "  resolving modules (go get k8s.io/kubernetes/cmd/kube-apiserver@$KUBE_VERSION)..."
  (cd "$dir" && "$GO" get "k8s.io/kubernetes/cmd/kube-apiserver@$KUBE_VERSION")

  local major minor
  major=$(cut -d. -f1 <<<"${KUBE_VERSION#v}")
  minor=$(cut -d. -f2 <<<"${KUBE_VERSION#v}")
  local ldflags="-s -w"
  local pkg kv key val
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    for kv in "gitVersion=$KUBE_VERSION" "gitMajor=$major" "gitMinor=$minor" \
              "gitTreeState=clean" "buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"; do
      key=${kv%%=*}; val=${kv#*=}
      ldflags+=" -X $pkg.$key=$val"
    done
  done

  local tmp="$BIN/.kube-apiserver.tmp.$$"
  TMPFILES+=("$tmp")
  log "  compiling (go build -trimpath)..."
  (cd "$dir" && "$GO" build -trimpath -ldflags="$ldflags" -o "$tmp" k8s.io/kubernetes/cmd/kube-apiserver)
  local v; v=$("$tmp" --version)
  log "  built: $v"
  [[ "$v" == *"$KUBE_VERSION"* ]] || { log "unexpected --version output: $v"; exit 1; }
  mv -f -- "$tmp" "$APISERVER"
  set_stamp kube-apiserver "$KUBE_VERSION"
  log "kube-apiserver $KUBE_VERSION done in $(elapsed "$start"): $APISERVER ($(du -h "$APISERVER" | cut -f1))"
}

build_etcd() {
  local start; start=$(date +%s)
  local dir="$CACHE/src/etcd"
  mkdir -p "$dir"
  log "building etcd $ETCD_VERSION, ~2 min cold..."

  # `go install go.etcd.io/etcd/v3@...` fails on etcd's replace directives; a tiny main
  # in its own module calling etcdmain.Main is equivalent to the etcd binary.
  write_if_changed "$dir/main.go" <<'EOF'
// Code generated by portlb scripts/build-kube.sh. DO NOT EDIT.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  printf 'module portlb.local/etcd-build\n\ngo 1.24.0\n\nrequire go.etcd.io/etcd/server/v3 %s\n' \
    "$ETCD_VERSION" >"$dir/go.mod.want"
  if ! cmp -s "$dir/go.mod.want" "$dir/go.mod.pinned" 2>/dev/null; then
    rm -f "$dir/go.sum"
    cp "$dir/go.mod.want" "$dir/go.mod"
    mv -f "$dir/go.mod.want" "$dir/go.mod.pinned"
  else
    rm -f "$dir/go.mod.want"
  fi
  log "  resolving modules..."
  (cd "$dir" && "$GO" get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" && "$GO" mod tidy)

  local tmp="$BIN/.etcd.tmp.$$"
  TMPFILES+=("$tmp")
  log "  compiling (go build -trimpath)..."
  (cd "$dir" && "$GO" build -trimpath -ldflags="-s -w" -o "$tmp" .)
  local v; v=$("$tmp" --version | head -1)
  log "  built: $v"
  [[ "$v" == *"${ETCD_VERSION#v}"* ]] || { log "unexpected --version output: $v"; exit 1; }
  mv -f -- "$tmp" "$ETCD"
  set_stamp etcd "$ETCD_VERSION"
  log "etcd $ETCD_VERSION done in $(elapsed "$start"): $ETCD ($(du -h "$ETCD" | cut -f1))"
}

# Re-check under the lock: a concurrent run may have finished the work meanwhile.
if [[ $FORCE == 1 ]] || ! etcd_ok; then build_etcd; else log "etcd $ETCD_VERSION already built"; fi
if [[ $FORCE == 1 ]] || ! apiserver_ok; then build_apiserver; else log "kube-apiserver $KUBE_VERSION already built"; fi

report
