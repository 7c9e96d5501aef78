//! Cable objects of Submariner's gateway engine are never the agent's:
//! the VXLAN cable driver's `vxlan-tunnel` (with its 241.x address, FDB
//! entry, table-100 route and `pref 100 lookup 100` rule, no proto) and the
//! WireGuard driver's `submariner` link (a bridge stands in when the
//! wireguard module is missing) survive converge and remove_all
//! byte-identically, as `ip -d` shows them. A plan with the agent's own
//! `vxlan-tunnel` is refused while a foreign one exists.

mod common;
use common::*;
use hostnet::Host;
use plan::{Address, Link, LinkKind, Vxlan};

/// Submariner's VXLAN cable as its driver lays it out, and a `submariner`
/// link (WireGuard if the kernel has it, else a bridge).
fn add_foreign_cables(ns: &netns::NetNs) {
    ns.sh("set -e
         ip link add vxlan-tunnel mtu 1450 type vxlan id 1000 dstport 4500
         ip link set vxlan-tunnel up
         ip addr add 241.1.0.2/8 dev vxlan-tunnel
         bridge fdb append 00:00:00:00:00:00 dev vxlan-tunnel dst 192.168.50.9
         ip route add 10.245.0.0/16 via 241.2.0.1 dev vxlan-tunnel table 100 src 10.244.1.1 metric 100
         ip rule add pref 100 lookup 100
         sysctl -qw net.ipv4.conf.vxlan-tunnel.rp_filter=2
         ip link add submariner type wireguard 2>/dev/null || ip link add submariner type bridge
         ip link set submariner up")
        .expect("foreign cable objects");
}

/// Everything the foreign cables consist of, as `ip -d` prints it (links
/// without their counters, addresses, FDB, table 100, rules, sysctls).
fn dump(ns: &netns::NetNs) -> String {
    // The stand-in bridge's timers tick; IPv6 DAD state may change.
    ns.sh("ip -d link show vxlan-tunnel
           ip -d link show submariner | sed -E 's/[a-z_]+timer +[0-9.]+//g'
           ip -d -4 addr show dev vxlan-tunnel
           bridge fdb show dev vxlan-tunnel
           ip -d route show table 100
           ip -d rule show
           sysctl net.ipv4.conf.vxlan-tunnel.rp_filter net.ipv4.conf.vxlan-tunnel.forwarding")
        .expect("dump")
}

/// The gateway plan of an external cable: table 150 through `submariner`.
fn external_plan() -> plan::HostPlan {
    let mut p = gateway_plan();
    p.routes.push(route(
        "10.247.0.0/16",
        None,
        "submariner",
        Some("10.244.1.1"),
        150,
    ));
    p
}

#[test]
#[ignore = "needs root and network namespaces"]
fn foreign_cables_survive_converge_and_remove_all() {
    let ns = node("ra-hn-cable", "10.1.0.2", "10.244.1.1");
    add_foreign_cables(&ns);
    let before = dump(&ns);
    assert!(before.contains("vxlan id 1000"), "{before}");
    assert!(before.contains("100:\tfrom all lookup 100"), "{before}");
    let plan = external_plan();
    let keys = keys(&plan);
    let (report, removed) = block(&ns, || async {
        let mut h = Host::new().unwrap();
        let report = h.converge(&plan).await.unwrap();
        let mid = h.snapshot(&keys).await.unwrap();
        let removed = h.remove_all().await.unwrap();
        (report, (mid, removed))
    });
    assert!(report.errors.is_empty(), "{report}");
    let (mid, removed) = removed;
    assert!(removed.errors.is_empty(), "{removed}");
    assert!(
        mid.routes
            .iter()
            .any(|r| r.table == 150 && r.dst.to_string() == "10.247.0.0/16"),
        "the route through the foreign cable device was programmed"
    );
    let after = dump(&ns);
    assert_eq!(before, after, "a foreign cable object changed");
    let rules = ns.sh("ip rule").unwrap();
    assert!(!rules.contains("lookup 150"), "own rule removed: {rules}");
}

#[test]
#[ignore = "needs root and network namespaces"]
fn own_cable_over_a_foreign_vxlan_tunnel_is_refused() {
    let ns = node("ra-hn-cable2", "10.1.0.2", "10.244.1.1");
    add_foreign_cables(&ns);
    let before = dump(&ns);
    let mut plan = gateway_plan();
    plan.links.push(Link {
        name: "vxlan-tunnel".into(),
        mtu: Some(1450),
        kind: LinkKind::Vxlan(Vxlan {
            vni: 1000,
            port: 4500,
            local: None,
            remote: None,
            underlay: None,
        }),
    });
    plan.addresses.push(Address {
        dev: "vxlan-tunnel".into(),
        addr: net("241.1.0.2/8"),
    });
    let report = block(&ns, || async {
        let mut h = Host::new().unwrap();
        let r = h.converge(&plan).await.unwrap();
        h.remove_all().await.unwrap();
        r
    });
    assert!(
        report.errors.iter().any(|e| e
            .to_string()
            .contains("link vxlan-tunnel: exists but is not the agent's")),
        "{report}"
    );
    assert_eq!(dump(&ns), before, "the foreign vxlan-tunnel changed");
}

/// The agent's own `vxlan-tunnel` carries the alias and is removed by
/// remove_all.
#[test]
#[ignore = "needs root and network namespaces"]
fn own_vxlan_tunnel_is_marked_and_removed() {
    let ns = node("ra-hn-cable3", "10.1.0.2", "10.244.1.1");
    let mut plan = gateway_plan();
    plan.links.push(Link {
        name: "vxlan-tunnel".into(),
        mtu: Some(1350),
        kind: LinkKind::Vxlan(Vxlan {
            vni: 1000,
            port: 4500,
            local: None,
            remote: None,
            underlay: None,
        }),
    });
    let (first, again) = block(&ns, || async {
        let mut h = Host::new().unwrap();
        let first = h.converge(&plan).await.unwrap();
        let again = h.converge(&plan).await.unwrap();
        (first, again)
    });
    assert!(first.errors.is_empty(), "{first}");
    assert!(again.is_noop(), "{again}");
    let link = ns.sh("ip -d link show vxlan-tunnel").unwrap();
    assert!(link.contains("alias routeagent"), "{link}");
    block(&ns, || async {
        Host::new().unwrap().remove_all().await.unwrap()
    });
    assert!(ns.sh("ip link show vxlan-tunnel").is_err());
}
