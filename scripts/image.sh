#!/usr/bin/env bash
# Builds the routeagent image with Debian's podman and no container registry
# (run as root on Debian 12), and prints its name on stdout (progress goes to
# stderr).
#
# The base image is a local `debootstrap --variant=minbase` rootfs of
# bookworm (with iptables and CA certificates), fetched from the Debian
# mirror apt already uses and imported once as ROUTEAGENT_BASE_IMAGE; later
# builds reuse it. deploy/Dockerfile then copies the release binary
# (ROUTEAGENT_BINARY, default target/release/routeagent: the one the tests
# test; built when missing) and deploy/submariner-route-agent.sh (the
# operator's init container program) onto it. The image carries their sha256
# as a label, so a build with both unchanged is skipped.
#
# Environment: ROUTEAGENT_IMAGE (default localhost/routeagent:dev),
# ROUTEAGENT_BASE_IMAGE (default localhost/routeagent-base:bookworm),
# ROUTEAGENT_BINARY, ROUTEAGENT_DEBIAN_MIRROR (default: the bookworm mirror
# of /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list).
set -euo pipefail
cd "$(dirname "$0")/.."
image=${ROUTEAGENT_IMAGE:-localhost/routeagent:dev}
base=${ROUTEAGENT_BASE_IMAGE:-localhost/routeagent-base:bookworm}
binary=${ROUTEAGENT_BINARY:-target/release/routeagent}
# podman's default rlimits exceed these machines' hard limits.
limits=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
say() { echo "== $*" >&2; }

[ "$(id -u)" = 0 ] || { echo "error: run as root (podman, debootstrap)" >&2; exit 1; }
missing=()
for p in podman runc debootstrap; do command -v "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing: ${missing[*]}"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi

# The URI of the apt source that serves bookworm's main suite.
mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -e "$f" ] || continue
    awk 'BEGIN { RS = "" }
         /(^|\n)Suites:([^\n]*[ \t])?bookworm([ \t]|\n|$)/ {
           n = split($0, l, "\n")
           for (i = 1; i <= n; i++) if (l[i] ~ /^URIs:/) { split(l[i], u, /[ \t]+/); print u[2]; exit }
         }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -e "$f" ] || continue
    sed -E 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }'
  done
}

if podman image exists "$base"; then
  say "base $base: cached"
else
  url=${ROUTEAGENT_DEBIAN_MIRROR:-$(mirror | head -n 1)}
  [ -n "$url" ] || { echo "error: no bookworm mirror in the apt sources; set ROUTEAGENT_DEBIAN_MIRROR" >&2; exit 1; }
  root=$(mktemp -d /var/tmp/routeagent-rootfs.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  say "base $base: debootstrap --variant=minbase bookworm from $url"
  debootstrap --variant=minbase --include=iptables,ca-certificates bookworm "$root" "$url" >&2
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | podman import - "$base" >&2
  rm -rf "$root"
  trap - EXIT
fi

if [ ! -x "$binary" ]; then
  say "building $binary"
  cargo build --release -p routeagent >&2
fi
script=deploy/submariner-route-agent.sh
sum=$(cat "$binary" "$script" | sha256sum | cut -d' ' -f1)
if [ "$(podman image inspect --format '{{index .Labels "routeagent.binary-sha256"}}' "$image" 2>/dev/null)" = "$sum" ]; then
  say "image $image: up to date with $binary"
else
  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' EXIT
  cp "$binary" "$ctx/routeagent"
  cp "$script" "$ctx/submariner-route-agent.sh"
  say "image $image: podman build FROM $base"
  # --network none: the RUN step needs no network with this base, and
  # podman's default network would add a bridge, iptables rules and
  # ip_forward=1 to the host's namespace.
  old=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
  podman build "${limits[@]}" --network none --build-arg BASE="$base" --label "routeagent.binary-sha256=$sum" \
    -f deploy/Dockerfile -t "$image" "$ctx" >&2
  # The previous build of this name, now untagged.
  if [ -n "$old" ] && [ "$old" != "$(podman image inspect --format '{{.Id}}' "$image")" ]; then
    podman rmi "$old" >/dev/null 2>&1 || true
  fi
fi
echo "$image"
