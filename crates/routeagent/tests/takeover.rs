//! Taking a node over from Submariner's Go route agent: the node state as
//! the Go agent leaves it (coexistence facts, section 4) is built here with
//! `ip`, `bridge`, `iptables`, `ipset` and `nft` (never with routeagent's
//! code), per layout and role; then `routeagent apply --once` converges;
//! then no route-agent leftover remains, foreign objects (Globalnet-like
//! chains, sets and jump, a kube-proxy-like table) are byte-identical, and a
//! second run changes nothing. Then `routeagent uninstall` hands the node
//! back: the Go-agent-like state applies again on top.

mod support;

use netns::NetNs;
use std::path::Path;
use support::*;

/// How the Go agent programmed the packet filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    IptablesLegacy,
    IptablesNft,
    /// 2024 nft driver: table `ip submariner`, shared with Globalnet.
    NftShared,
    /// 0.21+: tables `ip submariner-ipv4` and `ip6 submariner-ipv6`.
    NftPerFamily,
}

const REMOTES: [&str; 2] = ["10.245.0.0/16", "10.97.0.0/16"];
const LOCALS: [&str; 2] = ["10.244.0.0/16", "10.96.0.0/16"];

/// `ip`/`bridge`/`sysctl` part of the Go agent's state on node a1
/// (10.1.0.1, CNI 10.244.1.1); the gateway is a1 or a2 (10.1.0.2). Plus
/// a stale remote cluster 10.250.0.0/16 and a stale node 10.1.0.9.
fn go_host(gateway: bool) -> String {
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
fn go_iptables(t: &str, foreign: bool) -> String {
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
fn go_nft(layout: Layout) -> String {
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

/// Builds the Go agent's state in `ns`; `foreign` adds the neighbours
/// (first build only: the hand-back build finds them still there).
fn build(ns: &NetNs, layout: Layout, gateway: bool, foreign: bool) {
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
    }
}

/// Others' objects: each line of these commands' output must survive.
const FOREIGN: &str = "for t in iptables-legacy iptables-nft; do $t-save 2>/dev/null | grep -E 'GN|KUBE' | sed 's/\\[[0-9]*:[0-9]*\\]//'; done; \
    ipset list SM-GN-abc 2>/dev/null; nft list table ip kube-proxy-like; \
    nft list chain ip submariner SUBMARINER-GN-EGRESS 2>/dev/null; nft list set ip submariner SM-GN-abc 2>/dev/null; \
    nft list table ip globalnet-like 2>/dev/null; true";

/// What the Go agent's route agent left, per the facts: must be empty
/// after the takeover, except Globalnet's jump chain in a shared chain.
const LEFTOVERS: &str = "for t in iptables-legacy iptables-nft; do $t-save -t mangle 2>/dev/null | grep SUBMARINER; \
    $t-save -t filter 2>/dev/null | grep SUBMARINER; $t-save -t nat 2>/dev/null | grep -E 'SUBMARINER-(POSTROUTING|INPUT|FORWARD|FWD-MSSCLAMP)' \
    | grep -vE '^:SUBMARINER-POSTROUTING - |^-A POSTROUTING -j SUBMARINER-POSTROUTING$|^-A SUBMARINER-POSTROUTING -j SUBMARINER-GN-EGRESS$'; done; \
    ipset list -n | grep -E '^SUBMARINER-'; nft list tables | grep -E 'submariner-ipv'; \
    nft list chain ip submariner SUBMARINER-POSTROUTING 2>/dev/null | grep -E 'accept|snat' | grep -v policy; \
    nft list table ip submariner 2>/dev/null | grep -E 'SUBMARINER-(INPUT|FORWARD|LOCALCIDRS|REMOTECIDRS)'; \
    ip route show table all proto static; ip rule show pref 150 | grep -v 'proto 166'; \
    bridge fdb show dev vx-submariner 2>/dev/null | grep 10.1.0.9; true";

/// Everything observable, for "a second run changes nothing".
fn state(ns: &NetNs) -> String {
    let filters = ns
        .sh("for t in iptables-legacy iptables-nft; do $t-save 2>/dev/null | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]//'; done; ipset list")
        .unwrap();
    format!("{}\n{filters}", snapshot(ns))
}

fn apply(ns: &NetNs, config: &Path, dir: &Path, extra: &[&str]) -> (bool, String) {
    let out = ns
        .cmd(BIN)
        .args([
            "apply",
            "--once",
            "--config",
            config.to_str().unwrap(),
            "--node",
            "a1",
            "--state-dir",
        ])
        .arg(dir)
        .args(extra)
        .env("ROUTEAGENT_LOG", "warn")
        .output()
        .expect("run routeagent apply");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn takeover(layout: Layout, gateway: bool) {
    let ns = node_ns("ratk");
    build(&ns, layout, gateway, true);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("topology.yaml");
    let gw = if gateway { "a1" } else { "a2" };
    std::fs::write(&config, topology(&[("cluster-b", &REMOTES)], gw)).unwrap();
    let foreign = ns.sh(FOREIGN).unwrap();
    assert!(
        foreign.contains("GN") && foreign.contains("kube-proxy-like"),
        "{foreign}"
    );
    let vx_index = ns.sh("cat /sys/class/net/vx-submariner/ifindex").unwrap();

    let doctor = ns.cmd(BIN).arg("doctor").output().unwrap();
    let doctor = String::from_utf8_lossy(&doctor.stdout);
    assert!(
        doctor.contains("Submariner route agent leftovers") && doctor.contains("proto 4"),
        "doctor lists the leftovers before anything changes:\n{doctor}"
    );
    assert!(!ns.sh(LEFTOVERS).unwrap().is_empty());

    let state_dir = dir.path().join("state");
    let (ok, out) = apply(&ns, &config, &state_dir, &[]);
    assert!(ok, "{layout:?} gateway={gateway}: first run failed:\n{out}");
    assert!(
        out.contains("removed: "),
        "the run reports what it removed:\n{out}"
    );
    let left = ns.sh(LEFTOVERS).unwrap();
    assert_eq!(
        left, "",
        "{layout:?} gateway={gateway}: Go agent leftovers remain:\n{left}\nrun:\n{out}"
    );
    assert_eq!(ns.sh(FOREIGN).unwrap(), foreign, "foreign objects changed");
    assert_eq!(
        ns.sh("cat /sys/class/net/vx-submariner/ifindex").unwrap(),
        vx_index,
        "vx-submariner was re-created instead of adopted:\n{out}"
    );
    let routes = ns.sh("ip route show table all proto 166").unwrap();
    assert!(
        routes.contains("10.245.0.0/16") && !routes.contains("10.250."),
        "{routes}"
    );
    if gateway {
        assert!(out.contains("adopted: route 10.245.0.0/16"), "{out}");
        assert!(ns
            .sh("ip rule show pref 150")
            .unwrap()
            .contains("proto 166"));
    }

    let before = state(&ns);
    let (ok, again) = apply(&ns, &config, &state_dir, &[]);
    assert!(ok, "second run failed:\n{again}");
    assert!(
        !again.contains("removed: ") && !again.contains("adopted: "),
        "{again}"
    );
    assert_eq!(
        state(&ns),
        before,
        "a second run changed the host:\n{again}"
    );

    let un = ns
        .cmd(BIN)
        .args(["uninstall", "--state-dir"])
        .arg(&state_dir)
        .output()
        .unwrap();
    assert!(
        un.status.success(),
        "{}",
        String::from_utf8_lossy(&un.stderr)
    );
    let mine = ns
        .sh("ip route show table all proto 166; ip rule show | grep 'proto 166'; nft list tables | grep routeagent; \
             for t in iptables-legacy iptables-nft; do $t-save 2>/dev/null | grep -E ' RA-|:RA-'; done; true")
        .unwrap();
    assert_eq!(mine, "", "uninstall left the agent's objects");
    // Hand-back: the Go agent's programming applies on top, as on a fresh node.
    build(&ns, layout, gateway, false);
    let back = ns.sh(LEFTOVERS).unwrap();
    assert!(
        back.contains("10.245.0.0/16")
            && (back.contains("SUBMARINER-INPUT") || back.contains("submariner-ipv4")),
        "the Go agent's state is back:\n{back}"
    );
}

#[test]
#[ignore = "needs root and network namespaces"]
fn takeover_iptables_legacy_gateway() {
    takeover(Layout::IptablesLegacy, true);
}

#[test]
#[ignore = "needs root and network namespaces"]
fn takeover_iptables_legacy_non_gateway() {
    takeover(Layout::IptablesLegacy, false);
}

#[test]
#[ignore = "needs root and network namespaces"]
fn takeover_iptables_nft_gateway() {
    takeover(Layout::IptablesNft, true);
}

#[test]
#[ignore = "needs root and network namespaces"]
fn takeover_iptables_nft_non_gateway() {
    takeover(Layout::IptablesNft, false);
}

#[test]
#[ignore = "needs root and network namespaces"]
fn takeover_nft_shared_table_gateway() {
    takeover(Layout::NftShared, true);
}

#[test]
#[ignore = "needs root and network namespaces"]
fn takeover_nft_shared_table_non_gateway() {
    takeover(Layout::NftShared, false);
}

#[test]
#[ignore = "needs root and network namespaces"]
fn takeover_nft_per_family_tables_gateway() {
    takeover(Layout::NftPerFamily, true);
}

#[test]
#[ignore = "needs root and network namespaces"]
fn takeover_nft_per_family_tables_non_gateway() {
    takeover(Layout::NftPerFamily, false);
}

/// A half-removed Go-agent state: a jump whose chain was flushed, a chain
/// without its jump holding only Globalnet's jump, a set nothing refers to,
/// an empty per-family table, and a shared table left with only foreign
/// chains next to an empty chain of the Go agent's. Converges without error
/// and without touching the foreign parts.
#[test]
#[ignore = "needs root and network namespaces"]
fn half_removed_state_converges_without_touching_others() {
    let ns = node_ns("ratkh");
    ns.sh("set -e
           T=iptables-legacy
           $T -t mangle -N SUBMARINER-POSTROUTING
           $T -t mangle -I POSTROUTING 1 -j SUBMARINER-POSTROUTING
           $T -t nat -N SUBMARINER-POSTROUTING
           $T -t nat -N SUBMARINER-GN-EGRESS
           $T -t nat -A SUBMARINER-POSTROUTING -j SUBMARINER-GN-EGRESS
           $T -t nat -A SUBMARINER-GN-EGRESS -m mark --mark 0xc0000/0xc0000 -j ACCEPT
           ipset create SUBMARINER-REMOTECIDRS hash:net
           nft -f - <<'EOF'
table ip submariner-ipv4 {
}
table ip submariner {
	chain SUBMARINER-GN-INGRESS {
		type nat hook prerouting priority -110; policy accept;
		ip daddr 242.0.0.1 dnat to 10.244.1.5
	}
	chain SUBMARINER-FORWARD {
	}
}
EOF")
        .expect("half-removed state");
    ns.sh(&format!("nft -f - <<'EOF'\n{KUBE_PROXY}EOF"))
        .unwrap();
    let foreign_cmd = "iptables-legacy-save -t nat | grep GN; nft list chain ip submariner SUBMARINER-GN-INGRESS; nft list table ip kube-proxy-like";
    let foreign = ns.sh(foreign_cmd).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("topology.yaml");
    std::fs::write(&config, topology(&[("cluster-b", &REMOTES)], "a2")).unwrap();
    let state_dir = dir.path().join("state");
    let (ok, out) = apply(&ns, &config, &state_dir, &[]);
    assert!(ok && !out.contains("error"), "{out}");
    assert_eq!(
        ns.sh(foreign_cmd).unwrap(),
        foreign,
        "foreign objects changed:\n{out}"
    );
    let left = ns
        .sh("iptables-legacy-save -t mangle | grep SUBMARINER; ipset list -n | grep SUBMARINER; \
             nft list tables | grep submariner-ipv4; nft list table ip submariner | grep SUBMARINER-FORWARD; true")
        .unwrap();
    assert_eq!(left, "", "{out}");
    assert!(
        ns.sh("iptables-legacy-save -t nat")
            .unwrap()
            .contains("-A SUBMARINER-POSTROUTING -j SUBMARINER-GN-EGRESS"),
        "Globalnet's jump stays in the shared chain"
    );
    let before = state(&ns);
    let (ok, again) = apply(&ns, &config, &state_dir, &[]);
    assert!(ok && !again.contains("removed: "), "{again}");
    assert_eq!(state(&ns), before);
}

/// `--no-takeover`: the Go agent's objects stay exactly as they are, and
/// `/status` lists them as conflicts (its routes block the agent's).
#[test]
#[ignore = "needs root and network namespaces"]
fn no_takeover_leaves_everything_and_reports_conflicts() {
    let ns = node_ns("ratkn");
    build(&ns, Layout::IptablesNft, false, true);
    let go = |ns: &NetNs| {
        ns.sh("iptables-nft-save | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]//'; ipset list -n; ip route show table all proto static")
            .unwrap()
    };
    let before = go(&ns);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("topology.yaml");
    std::fs::write(&config, topology(&[("cluster-b", &REMOTES)], "a2")).unwrap();
    let state_dir = dir.path().join("state");
    let mut agent = start(&ns, &config, "a1", &state_dir, &["--no-takeover"]);
    let mut conflicts = Vec::new();
    until(
        "takeover conflicts in /status",
        std::time::Duration::from_secs(20),
        || {
            if let Ok(Some(code)) = agent.child.try_wait() {
                panic!("routeagent exited with {code}: {}", log(&agent));
            }
            let s = status(&ns).unwrap_or_default();
            conflicts = s["takeover"]["conflicts"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            !conflicts.is_empty()
        },
    );
    assert!(
        conflicts
            .iter()
            .any(|c| c.as_str().unwrap_or("").contains("SUBMARINER-FORWARD")),
        "{conflicts:?}"
    );
    let s = status(&ns).unwrap();
    assert!(
        s["takeover"]["removed"].as_array().unwrap().is_empty(),
        "{s}"
    );
    assert_eq!(
        go(&ns),
        before,
        "--no-takeover changed the Go agent's objects"
    );
    drop(agent.child.kill());
    let _ = agent.child.wait();
}
