#!/usr/bin/env bash
# Build GoBGP v4 (gobgpd + the gobgp CLI) from its Go module into a cache dir.
#
#   scripts/build-gobgp.sh            # build if missing / version mismatch, else no-op
#   scripts/build-gobgp.sh --force    # rebuild
#   scripts/build-gobgp.sh --print    # print the gobgpd path (no build); exit 1 if not built
#
# Why: Debian's gobgpd 3.10 applies no TCP-MD5 key to dynamic neighbours and has no BFD; GoBGP
# v4 does both (MD5 on the listener for a dynamic-neighbour prefix; single-hop BFD, inherited
# from a peer group by dynamic neighbours). The lab's gobgp route reflector runs this build.
#
# Environment:
#   PORTLB_GOBGP_CACHE    cache dir (default /var/cache/portlb/gobgp)
#   PORTLB_GOBGP_VERSION  github.com/osrg/gobgp/v4 version (default pinned below)
#   GO                    go binary (default /usr/local/go/bin/go, else `go` on PATH)
#
# Results: $CACHE/bin/gobgpd, $CACHE/bin/gobgp and the stamp file $CACHE/version. Only the Go
# module proxy is needed; about 2-3 minutes cold on 2 cores, niced.
set -euo pipefail

VERSION="${PORTLB_GOBGP_VERSION:-v4.8.0}"
CACHE="${PORTLB_GOBGP_CACHE:-/var/cache/portlb/gobgp}"
BIN="$CACHE/bin"
STAMP="$CACHE/version"

FORCE=0
PRINT_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --print) PRINT_ONLY=1 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "build-gobgp: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

log() { printf 'build-gobgp: %s\n' "$*" >&2; }
built() { [[ -x "$BIN/gobgpd" && -x "$BIN/gobgp" && -f "$STAMP" ]] && grep -qxF "gobgp $VERSION" "$STAMP"; }

if [[ $PRINT_ONLY == 1 ]]; then
  if built; then printf '%s\n' "$BIN/gobgpd"; exit 0; fi
  log "not built (or stale); run scripts/build-gobgp.sh"
  exit 1
fi
if [[ $FORCE == 0 ]] && built; then
  log "gobgp $VERSION up to date: $BIN"
  exit 0
fi

mkdir -p "$BIN"
exec 9>"$CACHE/.lock"
flock 9
if [[ $FORCE == 0 ]] && built; then log "gobgp $VERSION built meanwhile"; exit 0; fi

if [[ -z "${GO:-}" ]]; then
  if [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go; else GO=$(command -v go || true); fi
fi
[[ -n "$GO" && -x "$GO" ]] || { log "no go toolchain found (set GO=...)"; exit 1; }
export GOTOOLCHAIN=local CGO_ENABLED=0

start=$(date +%s)
tmp=$(mktemp -d "$CACHE/.build.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
log "building gobgpd and gobgp $VERSION with $("$GO" env GOVERSION), niced..."
# `go install pkg@version` builds in module mode from the proxy, with the module's own go.sum.
GOBIN="$tmp" nice -n 10 "$GO" install -trimpath -ldflags='-s -w' \
  "github.com/osrg/gobgp/v4/cmd/gobgpd@$VERSION" "github.com/osrg/gobgp/v4/cmd/gobgp@$VERSION"
v=$("$tmp/gobgpd" --version)
[[ "$v" == *"${VERSION#v}"* ]] || { log "unexpected --version output: $v"; exit 1; }
mv -f -- "$tmp/gobgpd" "$BIN/gobgpd"
mv -f -- "$tmp/gobgp" "$BIN/gobgp"
printf 'gobgp %s\ngo %s\n' "$VERSION" "$("$GO" env GOVERSION)" >"$STAMP.tmp"
mv -f -- "$STAMP.tmp" "$STAMP"
log "$v in $(( $(date +%s) - start )) s: $BIN"
