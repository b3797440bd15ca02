#!/usr/bin/env bash
# Installs what portlb's lab and tests need on a fresh Debian machine (as root). Idempotent:
# every step checks first, so a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== setup: %s\n' "$*"; }

apt_packages=(exabgp gobgpd frr nftables conntrack keepalived iproute2 iputils-ping curl openssl python3-matplotlib
  nginx # the lab's backends (docs/lab.md)
  podman buildah runc debootstrap prometheus) # images (scripts/build-images.sh); promtool
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "apt-get install ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# Debian starts FRR's own daemons on install; the lab and tests run their own in namespaces.
# It starts Prometheus too; only its promtool is wanted; and nginx, whose lab backends run their own.
for unit in frr prometheus nginx; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$unit" 2>/dev/null; then systemctl stop "$unit" || true; fi
done

pip_wanted=("moto[server]==5.2.1" "cfn-lint==1.51.0")
if ! python3 -c 'import moto, flask' 2>/dev/null || ! command -v cfn-lint >/dev/null 2>&1; then
  step "pip install ${pip_wanted[*]}"
  python3 -m pip install -q "${pip_wanted[@]}"
fi

# Java + the Pub/Sub emulator, terraform: the GCP tests' peers.
scripts/setup-gcp.sh

if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step 'npm ci (Node 24 comes from the node@24 devDependency)'
  npm ci --no-audit --no-fund
fi
step "build (tsc + the portlb bundle, $(node_modules/.bin/node --version))"
npm run --silent build

if [ -x scripts/build-kube.sh ] && [ "${PORTLB_SKIP_KUBE:-0}" != 1 ]; then
  step 'kube-apiserver + etcd (cached after the first build)'
  scripts/build-kube.sh
fi

if [ "${PORTLB_SKIP_GOBGP:-0}" != 1 ]; then
  step 'GoBGP v4: the lab route reflector, with TCP-MD5 for dynamic neighbours and BFD (cached after the first build)'
  scripts/build-gobgp.sh
fi
if [ "${PORTLB_SKIP_VEGETA:-0}" != 1 ]; then
  step 'vegeta: the load generator of bench:traffic and the lab traffic test (cached after the first build)'
  scripts/build-vegeta.sh
fi
if [ "${PORTLB_SKIP_HELM:-0}" != 1 ]; then
  step 'helm (for the chart checks; cached after the first build)'
  scripts/build-helm.sh
fi
# The images (scripts/build-images.sh) are built by test/integration/images-run.test.ts, under
# the lock the integration tests hold, and cached in /var/cache/portlb/images and podman's store.
