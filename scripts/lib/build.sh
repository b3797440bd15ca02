# Sourced by scripts/build-*.sh: what every cached build shares. Not run on its own.

# parse_build_args NAME HELP_LINES ARGS...: sets FORCE and PRINT_ONLY from --force / --print;
# -h prints lines HELP_LINES (e.g. 2,18) of the calling script; anything else is exit 2.
parse_build_args() {
  local name=$1 help=$2 arg
  shift 2
  FORCE=0
  PRINT_ONLY=0
  for arg in "$@"; do
    case "$arg" in
      --force) FORCE=1 ;;
      --print) PRINT_ONLY=1 ;;
      -h|--help) sed -n "${help}p" "$0"; exit 0 ;;
      *) echo "$name: unknown argument: $arg" >&2; exit 2 ;;
    esac
  done
}

# find_go: sets GO (given, else /usr/local/go/bin/go, else `go` on PATH) and a local, static,
# reproducible toolchain; exits 1 naming GO when there is none. `log` must be defined.
find_go() {
  if [[ -z "${GO:-}" ]]; then
    if [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go; else GO=$(command -v go || true); fi
  fi
  [[ -n "$GO" && -x "$GO" ]] || { log "no go toolchain found (set GO=...)"; exit 1; }
  export GOTOOLCHAIN=local CGO_ENABLED=0
}

# go_tool_main NAME VERSION CACHE "BINARIES" "PACKAGES" ARGS...: build Go binaries with
# `go install pkg@version` (module mode from the proxy, the module's own go.sum), niced, into
# CACHE/bin, stamped `NAME VERSION` in CACHE/version; a no-op when that is already there.
# --print prints the first binary's path. The caller defines `verify DIR` (the fresh build in DIR
# is the right one, or exit 1) and may set HELP_LINES (default 2,18).
go_tool_main() {
  local name=$1 version=$2 cache=$3 binaries=$4 packages=$5
  shift 5
  local bin="$cache/bin" stamp="$cache/version" b
  parse_build_args "build-$name" "${HELP_LINES:-2,18}" "$@"
  log() { printf 'build-%s: %s\n' "$name" "$*" >&2; }
  built() {
    for b in $binaries; do [[ -x "$bin/$b" ]] || return 1; done
    [[ -f "$stamp" ]] && grep -qxF "$name $version" "$stamp"
  }
  local first=${binaries%% *}
  if [[ $PRINT_ONLY == 1 ]]; then
    if built; then printf '%s\n' "$bin/$first"; exit 0; fi
    log "not built (or stale); run scripts/build-$name.sh"
    exit 1
  fi
  if [[ $FORCE == 0 ]] && built; then
    log "$name $version up to date: $bin"
    exit 0
  fi

  mkdir -p "$bin"
  exec 9>"$cache/.lock"
  flock 9
  if [[ $FORCE == 0 ]] && built; then log "$name $version built meanwhile"; exit 0; fi
  find_go

  local start tmp
  start=$(date +%s)
  tmp=$(mktemp -d "$cache/.build.XXXXXX")
  # shellcheck disable=SC2064 # expand now: tmp is local
  trap "rm -rf -- '$tmp'" EXIT
  log "building $binaries $version with $("$GO" env GOVERSION), niced..."
  # shellcheck disable=SC2086 # word-split lists of packages
  GOBIN="$tmp" nice -n 10 "$GO" install -trimpath -ldflags='-s -w' $packages
  verify "$tmp"
  for b in $binaries; do mv -f -- "$tmp/$b" "$bin/$b"; done
  printf '%s %s\ngo %s\n' "$name" "$version" "$("$GO" env GOVERSION)" >"$stamp.tmp"
  mv -f -- "$stamp.tmp" "$stamp"
  log "$name $version in $(( $(date +%s) - start )) s: $bin"
}
