#!/usr/bin/env bash
# Build vegeta (the HTTP load generator of bench:traffic) from its Go module into a cache dir.
#
#   scripts/build-vegeta.sh            # build if missing / version mismatch, else no-op
#   scripts/build-vegeta.sh --force    # rebuild
#   scripts/build-vegeta.sh --print    # print the vegeta path (no build); exit 1 if not built
#
# Why vegeta and not Debian's wrk (the paper's): bench:traffic counts failed requests per change
# window, which needs every request's start time, latency and outcome. wrk reports totals only
# (its error counts have no timestamps); vegeta writes one result per request.
#
# Environment:
#   PORTLB_VEGETA_CACHE    cache dir (default /var/cache/portlb/vegeta)
#   PORTLB_VEGETA_VERSION  github.com/tsenart/vegeta/v12 version (default pinned below)
#   GO                     go binary (default /usr/local/go/bin/go, else `go` on PATH)
#
# Results: $CACHE/bin/vegeta and the stamp file $CACHE/version. Only the Go module proxy is
# needed; about a minute cold on 2 cores, niced.
set -euo pipefail

VERSION="${PORTLB_VEGETA_VERSION:-v12.13.0}"
CACHE="${PORTLB_VEGETA_CACHE:-/var/cache/portlb/vegeta}"
BIN="$CACHE/bin"
STAMP="$CACHE/version"

FORCE=0
PRINT_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --print) PRINT_ONLY=1 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "build-vegeta: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

log() { printf 'build-vegeta: %s\n' "$*" >&2; }
built() { [[ -x "$BIN/vegeta" && -f "$STAMP" ]] && grep -qxF "vegeta $VERSION" "$STAMP"; }

if [[ $PRINT_ONLY == 1 ]]; then
  if built; then printf '%s\n' "$BIN/vegeta"; exit 0; fi
  log "not built (or stale); run scripts/build-vegeta.sh"
  exit 1
fi
if [[ $FORCE == 0 ]] && built; then
  log "vegeta $VERSION up to date: $BIN"
  exit 0
fi

mkdir -p "$BIN"
exec 9>"$CACHE/.lock"
flock 9
if [[ $FORCE == 0 ]] && built; then log "vegeta $VERSION built meanwhile"; exit 0; fi

if [[ -z "${GO:-}" ]]; then
  if [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go; else GO=$(command -v go || true); fi
fi
[[ -n "$GO" && -x "$GO" ]] || { log "no go toolchain found (set GO=...)"; exit 1; }
export GOTOOLCHAIN=local CGO_ENABLED=0

start=$(date +%s)
tmp=$(mktemp -d "$CACHE/.build.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
log "building vegeta $VERSION with $("$GO" env GOVERSION), niced..."
# `go install pkg@version` builds in module mode from the proxy, with the module's own go.sum.
GOBIN="$tmp" nice -n 10 "$GO" install -trimpath -ldflags='-s -w' "github.com/tsenart/vegeta/v12@$VERSION"
"$tmp/vegeta" -version >/dev/null
mv -f -- "$tmp/vegeta" "$BIN/vegeta"
printf 'vegeta %s\ngo %s\n' "$VERSION" "$("$GO" env GOVERSION)" >"$STAMP.tmp"
mv -f -- "$STAMP.tmp" "$STAMP"
log "vegeta $VERSION in $(( $(date +%s) - start )) s: $BIN/vegeta"
