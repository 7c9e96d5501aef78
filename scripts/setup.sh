#!/usr/bin/env bash
# Installs what routeagent's build, tests and lab need on Debian 12 (run as root).
set -euo pipefail
pkgs=(iproute2 iputils-ping nftables iptables ipset procps iperf3 socat netcat-openbsd tcpdump ethtool conntrack kmod wireguard-go wireguard-tools ca-certificates gcc pkg-config podman runc debootstrap openssl ovn-central ovn-common openvswitch-common ovn-host openvswitch-switch)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  apt-get update -qq
  # The OVN and Open vSwitch packages start their services on install:
  # ovs-vswitchd and ovn-controller would run in the root network namespace
  # (and could load the openvswitch module, which makes ovs-system there).
  # The tests run their own daemons inside namespaces, so no service may
  # start: policy-rc.d answering 101 ("action forbidden") stops the
  # packages' invoke-rc.d and deb-systemd-invoke calls; it is removed again
  # unless it was already there.
  own_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    own_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null || { [ -z "$own_policy" ] || rm -f /usr/sbin/policy-rc.d; exit 1; }
  [ -z "$own_policy" ] || rm -f /usr/sbin/policy-rc.d
  # Nor at the next boot.
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl disable --now ovn-central.service ovn-northd.service ovn-ovsdb-server-nb.service ovn-ovsdb-server-sb.service \
      ovn-host.service ovn-controller.service openvswitch-switch.service ovs-vswitchd.service ovsdb-server.service >/dev/null 2>&1 || true
  fi
fi
# Nothing of Open vSwitch may run or exist in the root network namespace
# (the tests' own daemons run in namespaces of their own: those are fine).
root_ns=$(readlink /proc/self/ns/net)
ovs_here=
for pid in $(pgrep -x ovs-vswitchd || true) $(pgrep -x ovn-controller || true); do
  [ "$(readlink "/proc/$pid/ns/net" 2>/dev/null)" != "$root_ns" ] || ovs_here=$pid
done
if ip link show ovs-system >/dev/null 2>&1 || ip link show br-int >/dev/null 2>&1 || [ -n "$ovs_here" ]; then
  echo "error: Open vSwitch runs in the root network namespace (ovs-system/br-int or ovs-vswitchd/ovn-controller); stop it (systemctl disable --now openvswitch-switch ovn-host) and delete the bridges" >&2
  exit 1
fi
if ! command -v cargo >/dev/null 2>&1; then
  [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
fi
command -v cargo >/dev/null 2>&1 || { echo "error: cargo not found; install Rust >= 1.85 with rustup (https://rustup.rs) and re-run" >&2; exit 1; }
if command -v rustup >/dev/null 2>&1; then
  rustup component add rustfmt clippy >/dev/null 2>&1 || true
fi
[ "$(id -u)" = 0 ] || { echo "error: run as root: the tests and the lab create network namespaces" >&2; exit 1; }
