//! Node state as Submariner's Go route agent leaves it (coexistence facts,
//! section 4), built with `ip`, `bridge`, `iptables`, `ipset` and `nft`
//! (never with routeagent's code), with others' objects next to it: what
//! the takeover tests start from, in file and Kubernetes modes.

use super::*;
use netns::NetNs;

/// How the Go agent programmed the packet filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    IptablesLegacy,
    IptablesNft,
    /// 2024 nft driver: table `ip submariner`, shared with Globalnet.
    NftShared,
    /// 0.21+: tables `ip submariner-ipv4` and `ip6 submariner-ipv6`.
    NftPerFamily,
}

pub const REMOTES: [&str; 2] = ["10.245.0.0/16", "10.97.0.0/16"];
pub const LOCALS: [&str; 2] = ["10.244.0.0/16", "10.96.0.0/16"];

/// `ip`/`bridge`/`sysctl` part of the Go agent's state on node a1
/// (10.1.0.1, CNI 10.244.1.1); the gateway is a1 or a2 (10.1.0.2). Plus
/// a stale remote cluster 10.250.0.0/16 and a stale node 10.1.0.9.
pub fn go_host(gateway: bool) -> String {
    let mut s = String::from(
        "set -e
         ip link add vx-submariner type vxlan id 100 dstport 4800 local 10.1.0.1 dev eth0 nolearning REMOTE
         ip link set vx-submariner mtu 1450 up
         ip addr add 240.1.0.1/8 dev vx-submariner
         sysctl -qw net.ipv4.conf.cni0.rp_filter=2 net.ipv4.conf.vx-submariner.rp_filter=2 net.ipv4.conf.vx-submariner.forwarding=1\n",
    );
    if gateway {
        s = s.replace("REMOTE", "");
        for n in ["10.1.0.2", "10.1.0.3", "10.1.0.9"] {
            s.push_str(&format!(
                "bridge fdb append 00:00:00:00:00:00 dev vx-submariner dst {n}\n"
            ));
        }
        for r in REMOTES.iter().chain(&["10.250.0.0/16"]) {
            s.push_str(&format!(
                "ip route add {r} dev eth0 src 10.244.1.1 table 150 proto static\n"
            ));
        }
        s.push_str("ip rule add pref 150 lookup 150\n");
    } else {
        s = s.replace("REMOTE", "remote 10.1.0.2");
        for r in REMOTES.iter().chain(&["10.250.0.0/16"]) {
            s.push_str(&format!(
                "ip route add {r} via 240.1.0.2 dev vx-submariner proto static\n"
            ));
        }
    }
    s
}

/// The Go agent's iptables rules (tool `t`) and ipsets, created the way
/// it does (chains and jumps only when missing), and with `foreign`
/// Globalnet-like and kube-proxy-like neighbours (once).
pub fn go_iptables(t: &str, foreign: bool) -> String {
    let mut s = format!(
        "set -e
         T={t}
         ipset create -exist SUBMARINER-LOCALCIDRS hash:net
         ipset create -exist SUBMARINER-REMOTECIDRS hash:net
         for c in nat:SUBMARINER-POSTROUTING filter:SUBMARINER-INPUT filter:SUBMARINER-FORWARD mangle:SUBMARINER-POSTROUTING; do
           $T -t ${{c%%:*}} -N ${{c#*:}} 2>/dev/null || true
         done
         $T -t nat -C POSTROUTING -j SUBMARINER-POSTROUTING 2>/dev/null || $T -t nat -I POSTROUTING 1 -j SUBMARINER-POSTROUTING
         $T -t filter -C INPUT -p udp -j SUBMARINER-INPUT 2>/dev/null || $T -t filter -A INPUT -p udp -j SUBMARINER-INPUT
         $T -t filter -C FORWARD -j SUBMARINER-FORWARD 2>/dev/null || $T -t filter -I FORWARD 1 -j SUBMARINER-FORWARD
         $T -t mangle -C POSTROUTING -j SUBMARINER-POSTROUTING 2>/dev/null || $T -t mangle -I POSTROUTING 1 -j SUBMARINER-POSTROUTING
         $T -t nat -A SUBMARINER-POSTROUTING -s 240.0.0.0/8 -o vx-submariner -j SNAT --to-source 10.244.1.1
         $T -t filter -A SUBMARINER-INPUT -p udp -m udp --dport 4800 -j ACCEPT
         $T -t filter -A SUBMARINER-FORWARD -o vx-submariner -j ACCEPT
         $T -t mangle -A SUBMARINER-POSTROUTING -p tcp -m set --match-set SUBMARINER-LOCALCIDRS src -m set --match-set SUBMARINER-REMOTECIDRS dst -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
         $T -t mangle -A SUBMARINER-POSTROUTING -p tcp -m set --match-set SUBMARINER-REMOTECIDRS src -m set --match-set SUBMARINER-LOCALCIDRS dst -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu\n"
    );
    for l in LOCALS {
        s.push_str(&format!("ipset add -exist SUBMARINER-LOCALCIDRS {l}\n"));
    }
    for r in REMOTES {
        s.push_str(&format!("ipset add -exist SUBMARINER-REMOTECIDRS {r}\n"));
    }
    // ACCEPT pairs both ways, and a stale pair appended twice.
    for l in LOCALS {
        for r in REMOTES.iter().chain(&["10.250.0.0/16"]) {
            s.push_str(&format!(
                "$T -t nat -A SUBMARINER-POSTROUTING -s {l} -d {r} -j ACCEPT\n$T -t nat -A SUBMARINER-POSTROUTING -s {r} -d {l} -j ACCEPT\n"
            ));
        }
    }
    s.push_str("$T -t nat -A SUBMARINER-POSTROUTING -s 10.244.0.0/16 -d 10.250.0.0/16 -j ACCEPT\n");
    if foreign {
        s.push_str(
            "ipset create SM-GN-abc hash:net
             ipset add SM-GN-abc 10.244.3.0/24
             $T -t nat -N SUBMARINER-GN-EGRESS
             $T -t nat -N SM-GN-EGRESS-CLUSTER
             $T -t nat -I SUBMARINER-POSTROUTING 1 -j SUBMARINER-GN-EGRESS
             $T -t nat -A SUBMARINER-GN-EGRESS -j SM-GN-EGRESS-CLUSTER
             $T -t nat -A SM-GN-EGRESS-CLUSTER -s 10.244.0.0/16 -m mark --mark 0xc0000/0xc0000 -j SNAT --to-source 242.0.0.1-242.0.0.8
             $T -t nat -A SM-GN-EGRESS-CLUSTER -m set --match-set SM-GN-abc src -j ACCEPT
             $T -t nat -N KUBE-POSTROUTING
             $T -t nat -A POSTROUTING -j KUBE-POSTROUTING
             $T -t nat -A KUBE-POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE\n",
        );
    }
    s
}

/// The Go agent's nft table(s) for an nft layout, with Globalnet-like
/// chains and a set in the table it shares (2024) or next to its own.
pub fn go_nft(layout: Layout) -> String {
    let pairs: String = LOCALS
        .iter()
        .flat_map(|l| REMOTES.iter().map(move |r| (l, r)))
        .map(|(l, r)| {
            format!(
                "\t\tip saddr {l} ip daddr {r} accept comment \"-s {l} -d {r} -j ACCEPT\"\n\t\tip saddr {r} ip daddr {l} accept\n"
            )
        })
        .collect();
    let sets = "\tset SUBMARINER-LOCALCIDRS { type ipv4_addr; flags interval; elements = { 10.244.0.0/16, 10.96.0.0/16 } }\n\tset SUBMARINER-REMOTECIDRS { type ipv4_addr; flags interval; elements = { 10.245.0.0/16, 10.97.0.0/16 } }\n";
    let common = "\tchain SUBMARINER-INPUT {\n\t\ttype filter hook input priority 0; policy accept;\n\t\tudp dport 4800 accept\n\t}\n\tchain SUBMARINER-FORWARD {\n\t\ttype filter hook forward priority -10; policy accept;\n\t\toifname \"vx-submariner\" accept\n\t}\n";
    let gn = "\tset SM-GN-abc { type ipv4_addr; flags interval; elements = { 10.244.3.0/24 } }\n\tchain SUBMARINER-GN-EGRESS {\n\t\tip daddr 10.245.0.0/16 meta mark set mark | 0x000c0000\n\t\tip saddr @SM-GN-abc meta mark & 0x000c0000 == 0x000c0000 snat to 242.0.0.1-242.0.0.8\n\t}\n";
    match layout {
        Layout::NftShared => format!(
            "table ip submariner {{\n{sets}{gn}{common}\tchain SUBMARINER-POSTROUTING {{\n\t\ttype nat hook postrouting priority -110; policy accept;\n\t\tjump SUBMARINER-GN-EGRESS\n\t\tip saddr 240.0.0.0/8 oifname \"vx-submariner\" snat to 10.244.1.1\n{pairs}\t}}\n}}\n"
        ),
        Layout::NftPerFamily => format!(
            "table ip submariner-ipv4 {{\n{sets}{common}\tchain SUBMARINER-POSTROUTING {{\n\t\ttype nat hook postrouting priority srcnat - 10; policy accept;\n\t\tip saddr 240.0.0.0/8 oifname \"vx-submariner\" snat to 10.244.1.1\n{pairs}\t}}\n\tchain SUBMARINER-POSTROUTING-MSS {{\n\t\ttype filter hook postrouting priority -10; policy accept;\n\t\tip saddr @SUBMARINER-LOCALCIDRS ip daddr @SUBMARINER-REMOTECIDRS tcp flags syn / syn,rst tcp option maxseg size set rt mtu\n\t}}\n}}\ntable ip6 submariner-ipv6 {{\n\tset SUBMARINER-LOCALCIDRS-V6 {{ type ipv6_addr; flags interval; }}\n\tchain SUBMARINER-INPUT {{\n\t\ttype filter hook input priority 0; policy accept;\n\t\tudp dport 4800 accept\n\t}}\n}}\ntable ip globalnet-like {{\n{gn}}}\n"
        ),
        _ => unreachable!("not an nft layout"),
    }
}

/// The gateway engine's IPsec policies between the local and remote
/// CIDRs (libreswan's `out`/`fwd`/`in` trio through the gateways' public
/// IPs): not the route agent's, so never removed by the takeover. No SAs:
/// the lab kernel has no ESP (`ip xfrm state add` fails), policies alone
/// are accepted.
pub const XFRM: &str = "set -e
    for d in out fwd in; do
      if [ $d = out ]; then s=10.244.0.0/16 t=10.245.0.0/16 a=192.168.50.1 b=192.168.50.10;
      else s=10.245.0.0/16 t=10.244.0.0/16 a=192.168.50.10 b=192.168.50.1; fi
      ip xfrm policy add src $s dst $t dir $d priority 1757 tmpl src $a dst $b proto esp reqid 16389 mode tunnel
    done
";

/// Builds the Go agent's state in `ns`; `foreign` adds the neighbours
/// (Globalnet-like, kube-proxy-like, the gateway engine's [`XFRM`]
/// policies; first build only: the hand-back build finds them still there).
pub fn build(ns: &NetNs, layout: Layout, gateway: bool, foreign: bool) {
    ns.sh(&go_host(gateway)).expect("Go agent's host state");
    let filter = match layout {
        Layout::IptablesLegacy => go_iptables("iptables-legacy", foreign),
        Layout::IptablesNft => go_iptables("iptables-nft", foreign),
        nft => format!("nft -f - <<'EOF'\n{}EOF\n", go_nft(nft)),
    };
    ns.sh(&filter)
        .unwrap_or_else(|e| panic!("Go agent's packet filter ({layout:?}): {e}"));
    if foreign {
        ns.sh(&format!("nft -f - <<'EOF'\n{KUBE_PROXY}EOF"))
            .expect("kube-proxy-like table");
        ns.sh(XFRM).expect("the gateway engine's XFRM policies");
    }
}

/// Others' objects: each line of these commands' output must survive.
pub const FOREIGN: &str = "for t in iptables-legacy iptables-nft; do $t-save 2>/dev/null | grep -E 'GN|KUBE' | sed 's/\\[[0-9]*:[0-9]*\\]//'; done; \
    ipset list SM-GN-abc 2>/dev/null; nft list table ip kube-proxy-like; \
    nft list chain ip submariner SUBMARINER-GN-EGRESS 2>/dev/null; nft list set ip submariner SM-GN-abc 2>/dev/null; \
    nft list table ip globalnet-like 2>/dev/null; ip xfrm policy list; true";

/// What the Go agent's route agent left, per the facts: must be empty
/// after the takeover, except Globalnet's jump chain in a shared chain.
pub const LEFTOVERS: &str = "for t in iptables-legacy iptables-nft; do $t-save -t mangle 2>/dev/null | grep SUBMARINER; \
    $t-save -t filter 2>/dev/null | grep SUBMARINER; $t-save -t nat 2>/dev/null | grep -E 'SUBMARINER-(POSTROUTING|INPUT|FORWARD|FWD-MSSCLAMP)' \
    | grep -vE '^:SUBMARINER-POSTROUTING - |^-A POSTROUTING -j SUBMARINER-POSTROUTING$|^-A SUBMARINER-POSTROUTING -j SUBMARINER-GN-EGRESS$'; done; \
    ipset list -n | grep -E '^SUBMARINER-'; nft list tables | grep -E 'submariner-ipv'; \
    nft list chain ip submariner SUBMARINER-POSTROUTING 2>/dev/null | grep -E 'accept|snat' | grep -v policy; \
    nft list table ip submariner 2>/dev/null | grep -E 'SUBMARINER-(INPUT|FORWARD|LOCALCIDRS|REMOTECIDRS)'; \
    ip route show table all proto static; ip rule show pref 150 | grep -v 'proto 166'; \
    bridge fdb show dev vx-submariner 2>/dev/null | grep 10.1.0.9; true";

/// Everything observable, for "a second run changes nothing".
pub fn state(ns: &NetNs) -> String {
    let filters = ns
        .sh("for t in iptables-legacy iptables-nft; do $t-save 2>/dev/null | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]//'; done; ipset list")
        .unwrap();
    format!("{}\n{filters}", snapshot(ns))
}
