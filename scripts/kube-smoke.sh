#!/usr/bin/env bash
# Smoke test for the binaries built by scripts/build-kube.sh: start etcd and
# kube-apiserver on 127.0.0.1 (random high ports, temp dirs), wait for /readyz,
# run `kubectl get ns` with a static admin token, then stop both (by PID) and clean up.
#
#   scripts/kube-smoke.sh          # exit 0 on success
#   KEEP=1 scripts/kube-smoke.sh   # keep the temp dir (logs) afterwards
#
# Environment: PORTLB_KUBE_CACHE (default /var/cache/portlb/kube), or ETCD_BIN /
# KUBE_APISERVER_BIN to point at binaries directly; KUBECTL (default: kubectl on PATH).
set -euo pipefail

CACHE="${PORTLB_KUBE_CACHE:-/var/cache/portlb/kube}"
ETCD_BIN="${ETCD_BIN:-$CACHE/bin/etcd}"
KUBE_APISERVER_BIN="${KUBE_APISERVER_BIN:-$CACHE/bin/kube-apiserver}"
KUBECTL="${KUBECTL:-kubectl}"

log() { printf 'kube-smoke: %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

for b in "$ETCD_BIN" "$KUBE_APISERVER_BIN"; do
  [[ -x "$b" ]] || die "$b missing; run scripts/build-kube.sh first"
done
command -v openssl >/dev/null || die "openssl not found"
command -v curl >/dev/null || die "curl not found"

# Never route loopback traffic through a proxy.
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}" no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/portlb-kube-smoke.XXXXXX")
ETCD_PID=""
APISERVER_PID=""
OK=0

stop_pid() { # stop_pid PID NAME: SIGTERM, wait up to 10s, then SIGKILL
  local pid="$1" name="$2" i
  [[ -n "$pid" ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name (pid $pid) ignored SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  stop_pid "$APISERVER_PID" kube-apiserver
  stop_pid "$ETCD_PID" etcd
  if [[ $OK != 1 ]]; then
    for f in etcd.log kube-apiserver.log; do
      [[ -f "$WORK/$f" ]] || continue
      log "---- last 40 lines of $f ----"
      tail -n 40 "$WORK/$f" >&2 || true
    done
  fi
  if [[ "${KEEP:-0}" == 1 ]]; then log "kept $WORK"; else rm -rf -- "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port: a random port in 20000-59999 that nothing on 127.0.0.1 listens on.
USED_PORTS=" "
free_port() {
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    [[ "$USED_PORTS" == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      USED_PORTS+="$p "
      echo "$p"
      return 0
    fi
  done
  die "no free port found"
}

rss() { # rss PID -> "VmRSS (peak VmHWM)"
  awk '/^VmRSS/ {r=$2} /^VmHWM/ {h=$2} END {printf "%d MiB (peak %d MiB)", r/1024, h/1024}' "/proc/$1/status" 2>/dev/null || echo "?"
}

ETCD_CLIENT_PORT=$(free_port)
ETCD_PEER_PORT=$(free_port)
APISERVER_PORT=$(free_port)

# ---- etcd ------------------------------------------------------------------
mkdir -p "$WORK/etcd-data" "$WORK/certs"
chmod 700 "$WORK/etcd-data"
log "etcd: $("$ETCD_BIN" --version | head -1) on 127.0.0.1:$ETCD_CLIENT_PORT (peer $ETCD_PEER_PORT)"
"$ETCD_BIN" \
  --name=smoke \
  --data-dir="$WORK/etcd-data" \
  --listen-client-urls="http://127.0.0.1:$ETCD_CLIENT_PORT" \
  --advertise-client-urls="http://127.0.0.1:$ETCD_CLIENT_PORT" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster="smoke=http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster-state=new \
  --log-level=warn \
  >"$WORK/etcd.log" 2>&1 &
ETCD_PID=$!

t0=$(date +%s)
until curl -sf --max-time 2 "http://127.0.0.1:$ETCD_CLIENT_PORT/health" 2>/dev/null | grep -q '"health":"true"'; do
  kill -0 "$ETCD_PID" 2>/dev/null || die "etcd exited early"
  (( $(date +%s) - t0 < 30 )) || die "etcd not healthy after 30s"
  sleep 0.2
done
log "etcd healthy after $(( $(date +%s) - t0 ))s (pid $ETCD_PID)"

# ---- kube-apiserver ----------------------------------------------------------
openssl genrsa -out "$WORK/sa.key" 2048 2>/dev/null
openssl rsa -in "$WORK/sa.key" -pubout -out "$WORK/sa.pub" 2>/dev/null
TOKEN=$(openssl rand -hex 24)
# token,user,uid,"group1,group2"
printf '%s,admin,admin-uid,"system:masters"\n' "$TOKEN" >"$WORK/tokens.csv"
chmod 600 "$WORK/tokens.csv" "$WORK/sa.key"

# Flags (checked on kube-apiserver v1.34.4):
#   required:   --etcd-servers; --service-account-issuer + --service-account-signing-key-file
#               (together); --service-account-key-file (or --service-account-signing-endpoint)
#   for us:     --secure-port (default 6443), --token-auth-file (our admin token),
#               --bind-address=127.0.0.1 (default listens on all interfaces),
#               --cert-dir (default /var/run/kubernetes), --authorization-mode=RBAC (default
#               AlwaysAllow: any authenticated user is admin, anonymous gets 401),
#               --service-cluster-ip-range (default 10.0.0.0/24 with a warning)
#   --advertise-address=127.0.0.1 makes the "kubernetes" Service endpoint reconciler fail
#   every 10s ("may not be in the loopback range"); without it the apiserver advertises the
#   host's default-route IP instead. --endpoint-reconciler-type=none silences that; the
#   default/kubernetes Service then simply has no endpoints, which nothing here needs.
log "kube-apiserver: $("$KUBE_APISERVER_BIN" --version) on https://127.0.0.1:$APISERVER_PORT"
"$KUBE_APISERVER_BIN" \
  --bind-address=127.0.0.1 \
  --advertise-address=127.0.0.1 \
  --secure-port="$APISERVER_PORT" \
  --cert-dir="$WORK/certs" \
  --etcd-servers="http://127.0.0.1:$ETCD_CLIENT_PORT" \
  --service-account-issuer=https://kubernetes.default.svc \
  --service-account-key-file="$WORK/sa.pub" \
  --service-account-signing-key-file="$WORK/sa.key" \
  --authorization-mode=RBAC \
  --token-auth-file="$WORK/tokens.csv" \
  --service-cluster-ip-range=10.96.0.0/16 \
  --endpoint-reconciler-type=none \
  ${KUBE_APISERVER_EXTRA_FLAGS:-} \
  >"$WORK/kube-apiserver.log" 2>&1 &
APISERVER_PID=$!

t0=$(date +%s)
until curl -ksf --max-time 2 -H "Authorization: Bearer $TOKEN" \
    "https://127.0.0.1:$APISERVER_PORT/readyz" >/dev/null 2>&1; do
  kill -0 "$APISERVER_PID" 2>/dev/null || die "kube-apiserver exited early"
  (( $(date +%s) - t0 < 120 )) || {
    curl -ks --max-time 2 -H "Authorization: Bearer $TOKEN" \
      "https://127.0.0.1:$APISERVER_PORT/readyz?verbose" >&2 || true
    die "kube-apiserver not ready after 120s"
  }
  sleep 0.5
done
log "kube-apiserver ready after $(( $(date +%s) - t0 ))s (pid $APISERVER_PID)"

# ---- kubectl -------------------------------------------------------------------
if command -v "$KUBECTL" >/dev/null; then
  log "kubectl get ns:"
  KUBECONFIG="$WORK/no-kubeconfig" "$KUBECTL" --server "https://127.0.0.1:$APISERVER_PORT" \
    --token "$TOKEN" --insecure-skip-tls-verify get ns | tee "$WORK/ns.txt" >&2
  grep -q '^kube-system ' "$WORK/ns.txt" || die "kube-system namespace missing"
  grep -q '^default ' "$WORK/ns.txt" || die "default namespace missing"
else
  log "kubectl not found; checking /api/v1/namespaces with curl"
  curl -ksf -H "Authorization: Bearer $TOKEN" \
    "https://127.0.0.1:$APISERVER_PORT/api/v1/namespaces" | grep -q '"name": *"kube-system"' ||
    die "kube-system namespace missing"
fi
# An unauthenticated/anonymous request must not be able to list namespaces (RBAC works).
code=$(curl -ks -o /dev/null -w '%{http_code}' "https://127.0.0.1:$APISERVER_PORT/api/v1/namespaces")
[[ "$code" == 401 || "$code" == 403 ]] || die "anonymous list namespaces returned HTTP $code"

log "memory: etcd $(rss "$ETCD_PID"), kube-apiserver $(rss "$APISERVER_PID")"
OK=1
log "OK"
