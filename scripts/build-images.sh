#!/usr/bin/env bash
# Build portlb's OCI images here, offline (no container registry): podman + runc from Debian, a
# base made with debootstrap, Node 24 copied in from the node@24 package.
#
#   scripts/build-images.sh            # build what is missing or stale; a no-op when nothing changed
#   scripts/build-images.sh --force    # make the base again and rebuild every image without the cache
#   scripts/build-images.sh --print    # print the image names (no build); exit 1 if one is missing
#
# Images (VERSION from package.json):
#   localhost/debian:bookworm          debootstrap --variant=minbase bookworm, the base
#   localhost/portlb:VERSION           Node 24 + the bundle (dist/cli) + iproute2, nftables, conntrack;
#                                      entrypoint portlb, uid 65532: the sidecar in cloud modes, the
#                                      data-plane container, the node agent, the CLI
#   localhost/portlb-exabgp:VERSION    Node 24 + the bundle + iproute2, exabgp, FRR: the sidecar in bgp
#                                      mode, and bfdd beside it
#
# Environment:
#   PORTLB_IMAGE_CACHE    where the base tarball and the build context live (default /var/cache/portlb/images)
#   PORTLB_DEBIAN_MIRROR  the Debian mirror (default: the one apt uses, from /etc/apt/sources.list.d)
#   CONTAINERS_CONF       podman's config (default deploy/image/containers.conf: runc, fixed ulimits)
set -euo pipefail
# shellcheck source=lib/build.sh
source "$(dirname "$0")/lib/build.sh"
cd "$(dirname "$0")/.."
REPO=$PWD

CACHE="${PORTLB_IMAGE_CACHE:-/var/cache/portlb/images}"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$REPO/deploy/image/containers.conf}"
VERSION=$(sed -n 's/^  "version": "\([^"]*\)",$/\1/p' package.json)
BASE_IMAGE=localhost/debian:bookworm
PORTLB_IMAGE=localhost/portlb:$VERSION
EXABGP_IMAGE=localhost/portlb-exabgp:$VERSION
BASE_TAR="$CACHE/debian-bookworm-minbase.tar"

parse_build_args build-images 2,24 "$@"

START=$(date +%s)
log() { printf 'build-images: [%3ss] %s\n' "$(( $(date +%s) - START ))" "$*" >&2; }
die() { printf 'build-images: %s\n' "$*" >&2; exit 1; }

[[ -n "$VERSION" ]] || die 'no "version" in package.json'

# What is missing, and the one command that installs it.
missing=()
for tool in podman runc debootstrap; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if [[ ${#missing[@]} -gt 0 ]]; then
  die "${missing[*]} not installed: apt-get install podman buildah runc debootstrap (scripts/setup.sh does it)"
fi

if [[ $PRINT_ONLY == 1 ]]; then
  for image in "$PORTLB_IMAGE" "$EXABGP_IMAGE"; do
    podman image exists "$image" || die "$image is not built; run scripts/build-images.sh"
    echo "$image"
  done
  exit 0
fi

[[ -x node_modules/node/bin/node ]] || die 'node_modules/node/bin/node is missing: run npm ci (scripts/setup.sh does it)'

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
  log "another build holds $CACHE/.lock; waiting..."
  flock 9
fi

# The mirror apt is configured with: the first deb822 `URIs:` whose Suites include plain
# bookworm, else the first one-line `deb URL bookworm` entry.
debian_mirror() {
  local found
  found=$(awk '
    /^[[:space:]]*$/ { if (uri != "" && suites ~ /(^| )bookworm( |$)/) { print uri; exit } uri = ""; suites = ""; next }
    /^URIs:/ { uri = $2 }
    /^Suites:/ { $1 = ""; suites = $0 " " }
    END { if (uri != "" && suites ~ /(^| )bookworm( |$)/) print uri }
  ' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
  if [[ -z "$found" ]]; then
    found=$(cat /etc/apt/sources.list.d/*.list /etc/apt/sources.list 2>/dev/null |
      awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' | sed 's/\[[^]]*\] *//')
  fi
  echo "${found:-}"
}
security_mirror() {
  awk '
    /^[[:space:]]*$/ { if (uri != "" && suites ~ /bookworm-security/) { print uri; exit } uri = ""; suites = ""; next }
    /^URIs:/ { uri = $2 }
    /^Suites:/ { suites = $0 }
    END { if (uri != "" && suites ~ /bookworm-security/) print uri }
  ' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1
}

# --- the base: debootstrap once, keep the tarball, import it ---------------------------------
make_base_tar() {
  local mirror security rootfs
  mirror="${PORTLB_DEBIAN_MIRROR:-$(debian_mirror)}"
  [[ -n "$mirror" ]] || die 'found no bookworm mirror in /etc/apt/sources.list.d; set PORTLB_DEBIAN_MIRROR'
  security="$(security_mirror)"
  security="${security:-${mirror%/debian}/debian-security}"
  rootfs="$CACHE/rootfs.tmp"
  rm -rf "$rootfs" "$BASE_TAR.tmp"
  log "debootstrap --variant=minbase bookworm from $mirror (about 20-60 s)..."
  if ! nice -n 10 debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$CACHE/debootstrap.log" 2>&1; then
    tail -20 "$CACHE/debootstrap.log" >&2
    die "debootstrap failed; its log: $CACHE/debootstrap.log"
  fi
  # Inside the images apt uses the same mirror, with updates and security; no docs, man pages or
  # locales, no recommends, no package cache.
  rm -f "$rootfs/etc/apt/sources.list" "$rootfs/etc/resolv.conf" "$rootfs/etc/hostname"
  cat >"$rootfs/etc/apt/sources.list.d/debian.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
EOF
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/portlb-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
  cat >"$rootfs/etc/apt/apt.conf.d/90portlb" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Dpkg::Options { "--force-confdef"; "--force-confold"; };
EOF
  find "$rootfs/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
  rm -rf "$rootfs"/usr/share/{man,info,locale}/* "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*.log
  tar --numeric-owner -C "$rootfs" -cf "$BASE_TAR.tmp" .
  rm -rf "$rootfs"
  sha256sum "$BASE_TAR.tmp" | cut -d' ' -f1 >"$BASE_TAR.sha256"
  mv -f "$BASE_TAR.tmp" "$BASE_TAR"
  log "base tarball: $BASE_TAR ($(du -h "$BASE_TAR" | cut -f1))"
}

label_of() { podman image inspect --format "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true; }

if [[ $FORCE == 1 || ! -f "$BASE_TAR" || ! -f "$BASE_TAR.sha256" ]]; then make_base_tar; fi
base_sum=$(cat "$BASE_TAR.sha256")
if [[ $FORCE == 1 ]] || [[ "$(label_of "$BASE_IMAGE" io.portlb.base)" != "$base_sum" ]]; then
  log "podman import $BASE_TAR -> $BASE_IMAGE"
  podman import --quiet --change "LABEL io.portlb.base=$base_sum" "$BASE_TAR" "$BASE_IMAGE" >/dev/null
else
  log "$BASE_IMAGE up to date (from $BASE_TAR)"
fi

# --- the build context: Node 24 and the bundle, nothing else ---------------------------------
log 'bundle: node scripts/build-cli.mjs'
node_modules/node/bin/node scripts/build-cli.mjs >/dev/null
context="$CACHE/context"
mkdir -p "$context"
cmp -s node_modules/node/bin/node "$context/node" || cp -f node_modules/node/bin/node "$context/node"
rm -rf "$context/cli"
cp -r dist/cli "$context/cli"
find "$context/cli" -name '*.map' -delete
log "context: Node $(node_modules/node/bin/node --version), bundle $(du -sh "$context/cli" | cut -f1)"

# One label carries the digest of everything an image is made of; an image whose label matches
# is current, and podman is not even asked (its layer cache would rebuild it the same way).
inputs_digest() {
  {
    echo "$1"
    cat "$2"
    (cd "$context" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -d' ' -f1
}

FILE=deploy/image/Containerfile
build() {
  local image=$1 packages=$2 digest
  digest=$(inputs_digest "$(podman image inspect --format '{{.Id}}' "$BASE_IMAGE") $packages" "$FILE")
  if [[ $FORCE == 0 && "$(label_of "$image" io.portlb.inputs)" == "$digest" ]]; then
    log "$image up to date"
    return
  fi
  log "podman build $image (PACKAGES=$packages)..."
  local previous cache_flag=()
  previous=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
  [[ $FORCE == 1 ]] && cache_flag=(--no-cache)
  if ! podman build --pull=never --layers "${cache_flag[@]}" \
    --build-arg "BASE=$BASE_IMAGE" --build-arg "PACKAGES=$packages" \
    --label "org.opencontainers.image.version=$VERSION" --label "io.portlb.inputs=$digest" \
    -f "$FILE" -t "$image" "$context" 2>&1 | sed -u 's/^/  | /' >&2; then
    die "podman build $image failed"
  fi
  # The image this one replaced, now untagged: nothing else refers to it.
  if [[ -n "$previous" ]] && [[ -z "$(podman image inspect --format '{{.RepoTags}}' "$previous" 2>/dev/null | tr -d '[]')" ]]; then
    podman rmi "$previous" >/dev/null 2>&1 || true
  fi
  log "$image built ($(podman image inspect --format '{{.Size}}' "$image" | awk '{ printf "%d MB", $1 / 1e6 }'))"
}

# nft and conntrack for the data plane (`portlb dataplane`, its own container), in this image
# rather than a third: in aws and gcp the LB pod's two Node processes then run from one image,
# one pull and one copy of the node binary on each node; they add 3 MB.
build "$PORTLB_IMAGE" 'iproute2 nftables conntrack iputils-ping procps'
build "$EXABGP_IMAGE" 'iproute2 exabgp frr'

# What the manifests ask of the images: they start as uid 65532 on a read-only root filesystem,
# and run the bundle of this version.
for image in "$PORTLB_IMAGE" "$EXABGP_IMAGE"; do
  got=$(podman run --rm --read-only --user 65532 --network none "$image" --version) ||
    die "$image does not start as uid 65532 with a read-only root filesystem"
  [[ "$got" == "$VERSION" ]] || die "$image says it is version $got, not $VERSION"
done
log "done: $PORTLB_IMAGE $EXABGP_IMAGE"
printf '%s\n%s\n' "$PORTLB_IMAGE" "$EXABGP_IMAGE"
