#!/usr/bin/env bash
# Installs what routeagent's build, tests and lab need on Debian 12 (run as root).
set -euo pipefail
pkgs=(iproute2 iputils-ping nftables iptables ipset procps iperf3 socat netcat-openbsd tcpdump ethtool conntrack kmod wireguard-go wireguard-tools ca-certificates gcc pkg-config podman runc debootstrap openssl ovn-central ovn-common openvswitch-common)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  # ovn-central's packaging starts the OVN databases and northd; the tests
  # run their own ovsdb-server in temporary directories, so keep those off.
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl disable --now ovn-central.service ovn-northd.service ovn-ovsdb-server-nb.service ovn-ovsdb-server-sb.service >/dev/null 2>&1 || true
  fi
fi
if ! command -v cargo >/dev/null 2>&1; then
  [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
fi
command -v cargo >/dev/null 2>&1 || { echo "error: cargo not found; install Rust >= 1.85 with rustup (https://rustup.rs) and re-run" >&2; exit 1; }
if command -v rustup >/dev/null 2>&1; then
  rustup component add rustfmt clippy >/dev/null 2>&1 || true
fi
[ "$(id -u)" = 0 ] || { echo "error: run as root: the tests and the lab create network namespaces" >&2; exit 1; }
