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
# shellcheck source=lib/build.sh
source "$(dirname "$0")/lib/build.sh"

VERSION="${PORTLB_VEGETA_VERSION:-v12.13.0}"
verify() { "$1/vegeta" -version >/dev/null; }
go_tool_main vegeta "$VERSION" "${PORTLB_VEGETA_CACHE:-/var/cache/portlb/vegeta}" vegeta \
  "github.com/tsenart/vegeta/v12@$VERSION" "$@"
