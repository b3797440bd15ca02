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
# shellcheck source=lib/build.sh
source "$(dirname "$0")/lib/build.sh"

VERSION="${PORTLB_GOBGP_VERSION:-v4.8.0}"
HELP_LINES=2,19
verify() {
  local v
  v=$("$1/gobgpd" --version)
  [[ "$v" == *"${VERSION#v}"* ]] || { log "unexpected --version output: $v"; exit 1; }
}
go_tool_main gobgp "$VERSION" "${PORTLB_GOBGP_CACHE:-/var/cache/portlb/gobgp}" "gobgpd gobgp" \
  "github.com/osrg/gobgp/v4/cmd/gobgpd@$VERSION github.com/osrg/gobgp/v4/cmd/gobgp@$VERSION" "$@"
