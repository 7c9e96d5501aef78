//! Planner behaviour, one rule per test.

mod common;

use common::*;
use plan::{FdbEntry, LinkKind, PlanError, PlanInput, Route};
use std::net::IpAddr;
use topology::{Node, TopologyError};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn vxlan(p: &plan::HostPlan, name: &str) -> plan::Vxlan {
    let l = p.links.iter().find(|l| l.name == name).unwrap();
    let LinkKind::Vxlan(v) = &l.kind;
    v.clone()
}

#[test]
fn non_gateway_vx_submariner() {
    let t = example("two-clusters-a");
    let p = plan_for(&t, "a3", Switches::ALL_ON);
    let v = vxlan(&p, "vx-submariner");
    assert_eq!((v.vni, v.port), (100, 4800));
    assert_eq!(v.local, Some(ip("10.1.0.3")));
    assert_eq!(v.remote, Some(ip("10.1.0.1")));
    assert_eq!(v.underlay.as_deref(), Some("eth0"));
    assert_eq!(p.links[0].mtu, Some(1450));
    assert_eq!(p.addresses[0].addr.to_string(), "240.1.0.3/8");
    assert!(p.fdb.is_empty() && p.rules.is_empty());
    assert_eq!(
        p.routes,
        ["10.97.0.0/16", "10.245.0.0/16"].map(|d| Route {
            dst: d.parse().unwrap(),
            via: Some(ip("240.1.0.1")),
            dev: "vx-submariner".into(),
            src: Some(ip("10.244.3.1")),
            table: 254,
            onlink: true
        })
    );
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn gateway_fdb_cable_and_table_150() {
    let t = example("three-clusters-c");
    let p = plan_for(&t, "c1", Switches::ALL_ON);
    assert_eq!(vxlan(&p, "vx-submariner").remote, None);
    let vx_fdb: Vec<_> = p
        .fdb
        .iter()
        .filter(|f| f.dev == "vx-submariner")
        .map(|f| f.dst)
        .collect();
    assert_eq!(vx_fdb, [ip("10.3.0.2"), ip("10.3.0.3")]);
    // Laid out as Submariner's VXLAN cable driver: no local, no dev.
    let cable = vxlan(&p, "vxlan-tunnel");
    assert_eq!((cable.vni, cable.port, cable.remote), (1000, 4500, None));
    assert_eq!((cable.local, cable.underlay), (None, None));
    let cable_fdb: Vec<_> = p
        .fdb
        .iter()
        .filter(|f| f.dev == "vxlan-tunnel")
        .map(|f| f.dst)
        .collect();
    assert_eq!(cable_fdb, [ip("192.168.50.1"), ip("192.168.50.2")]);
    // VTEP 241.<private IP>, next hops 241.<remote private IP>.
    assert!(p
        .addresses
        .iter()
        .any(|a| a.dev == "vxlan-tunnel" && a.addr.to_string() == "241.3.0.1/8"));
    assert_eq!(p.routes.len(), 8);
    for r in p.routes.iter().filter(|r| r.table == 100) {
        assert_eq!(
            (r.dev.as_str(), r.onlink, r.src),
            ("vxlan-tunnel", false, Some(ip("10.246.1.1")))
        );
        let want =
            if r.dst.to_string().starts_with("10.244") || r.dst.to_string().starts_with("10.96") {
                "241.1.0.1"
            } else {
                "241.2.0.1"
            };
        assert_eq!(r.via, Some(ip(want)), "{r:?}");
    }
    // Table 150 as Submariner's route agent: the default-route device
    // (none in the lab: the public interface, with a warning).
    for r in p.routes.iter().filter(|r| r.table == 150) {
        assert_eq!(
            (r.dev.as_str(), r.via, r.onlink, r.src),
            ("eth1", None, false, Some(ip("10.246.1.1")))
        );
    }
    assert!(p
        .warnings
        .iter()
        .any(|w| w.contains("no IPv4 default route")));
    let rules: Vec<_> = p.rules.iter().map(|r| (r.pref, r.table)).collect();
    assert_eq!(rules, [(100, 100), (150, 150)]);
    let keys: Vec<_> = p
        .sysctls
        .iter()
        .map(|s| format!("{}={}", s.key, s.value))
        .collect();
    assert_eq!(
        keys,
        [
            "net.ipv4.conf.pod0.rp_filter=2",
            "net.ipv4.conf.vx-submariner.forwarding=1",
            "net.ipv4.conf.vx-submariner.rp_filter=2",
            "net.ipv4.conf.vxlan-tunnel.forwarding=1",
            "net.ipv4.conf.vxlan-tunnel.rp_filter=2",
            "net.ipv4.ip_forward=1",
        ]
    );
}

#[test]
fn cable_without_public_ip_uses_private_ip_and_uplink() {
    let mut t = example("two-clusters-a");
    t.cluster.gateways[0].public_ip = None;
    t.remote_clusters[0].gateway.public_ip = None;
    let p = plan_for(&t, "a1", Switches::ALL_ON);
    assert!(p.fdb.contains(&FdbEntry {
        dev: "vxlan-tunnel".into(),
        dst: ip("10.2.0.1")
    }));
    assert!(p
        .addresses
        .iter()
        .any(|a| a.addr.to_string() == "241.1.0.1/8"));
    assert!(p
        .routes
        .iter()
        .all(|r| r.table == 150 && r.dev == "eth0" || r.via == Some(ip("241.2.0.1"))));
}

#[test]
fn tunables_change_links_and_mss() {
    let mut t = example("two-clusters-a");
    t.tunables.vxlan_vni = 7;
    t.tunables.vxlan_port = 4801;
    t.tunables.cable_vni = 9;
    t.tunables.cable_port = 4501;
    t.tunables.mtu = Some(1300);
    t.tunables.mss = Some(1200);
    let p = plan_for(&t, "a1", Switches::ALL_ON);
    let v = vxlan(&p, "vx-submariner");
    assert_eq!((v.vni, v.port, p.links[0].mtu), (7, 4801, Some(1300)));
    let c = vxlan(&p, "vxlan-tunnel");
    assert_eq!((c.vni, c.port, p.links[1].mtu), (9, 4501, Some(1450)));
    let text = p.ruleset.to_string();
    assert!(
        text.contains("udp dport 4501 accept") && text.contains("udp dport 4801 accept"),
        "{text}"
    );
    assert!(
        text.contains("tcp option maxseg size set 1200") && !text.contains("rt mtu"),
        "{text}"
    );
}

#[test]
fn mtu_follows_the_underlays() {
    let t = example("two-clusters-a");
    let mut f = lab_facts(&t, "a1");
    f.uplink.mtu = 9000;
    f.public.as_mut().unwrap().mtu = 1400;
    let c = constructs(Switches::ALL_ON);
    let p = plan::plan(&PlanInput {
        topology: &t,
        node: "a1",
        facts: &f,
        constructs: &c,
    })
    .unwrap();
    assert_eq!(p.links[0].mtu, Some(8950));
    assert_eq!(p.links[1].mtu, Some(1350));
    f.uplink.mtu = 600;
    let e = plan::plan(&PlanInput {
        topology: &t,
        node: "a1",
        facts: &f,
        constructs: &c,
    })
    .unwrap_err();
    assert!(
        matches!(e, PlanError::Mtu { ref link, mtu: 550, .. } if link == "vx-submariner"),
        "{e}"
    );
    assert!(e.to_string().contains("tunables.mtu"), "{e}");
}

#[test]
fn unknown_node_and_invalid_topology() {
    let t = example("two-clusters-a");
    let f = lab_facts(&t, "a1");
    let c = constructs(Switches::ALL_ON);
    let e = plan::plan(&PlanInput {
        topology: &t,
        node: "zz",
        facts: &f,
        constructs: &c,
    })
    .unwrap_err();
    assert!(
        matches!(e, PlanError::Topology(TopologyError::UnknownNode { .. })),
        "{e}"
    );
    let mut bad = t.clone();
    bad.tunables.vxlan_port = 0;
    let e = plan::plan(&PlanInput {
        topology: &bad,
        node: "a1",
        facts: &f,
        constructs: &c,
    })
    .unwrap_err();
    assert!(e.to_string().contains("tunables.vxlanPort"), "{e}");
}

#[test]
fn no_gateway_means_no_routes_and_a_warning() {
    let mut t = example("two-clusters-a");
    t.cluster.gateways.clear();
    let p = plan_for(&t, "a1", Switches::ALL_ON);
    assert_eq!(p.links.len(), 1);
    assert_eq!(vxlan(&p, "vx-submariner").remote, None);
    assert!(p.routes.is_empty() && p.fdb.is_empty());
    assert!(
        p.warnings.iter().any(|w| w.contains("no active gateway")),
        "{:?}",
        p.warnings
    );
}

#[test]
fn second_gateway_endpoint_is_not_active() {
    let mut t = example("two-clusters-a");
    let a2 = t.node("a2").unwrap().ip;
    t.cluster.gateways.push(topology::Endpoint {
        hostname: "a2".into(),
        private_ip: a2,
        public_ip: None,
        health_check_ip: None,
        backend: None,
        backend_config: Default::default(),
    });
    let p = plan_for(&t, "a2", Switches::ALL_ON);
    assert_eq!(p.links.len(), 1);
    assert_eq!(vxlan(&p, "vx-submariner").remote, Some(ip("10.1.0.1")));
}

#[test]
fn collisions_are_reported_and_routes_kept_when_possible() {
    let mut t = example("two-clusters-a");
    // a3 = 172.1.0.2 collides with a2 = 10.1.0.2 (both 240.1.0.2)
    t.cluster.nodes[2] = Node {
        name: "a3".into(),
        ip: ip("172.1.0.2"),
        ovn: None,
    };
    t.validate().unwrap();
    for node in ["a1", "a2", "a3"] {
        let p = plan_for(&t, node, Switches::ALL_ON);
        assert!(
            p.warnings.iter().any(|w| w.contains(
                "a2 (10.1.0.2) and a3 (172.1.0.2) share the vx-submariner address 240.1.0.2"
            )),
            "{node}: {:?}",
            p.warnings
        );
        if node == "a1" {
            // the gateway's FDB is by underlay address: still exact
            let dsts: Vec<_> = p
                .fdb
                .iter()
                .filter(|f| f.dev == "vx-submariner")
                .map(|f| f.dst)
                .collect();
            assert_eq!(dsts, [ip("10.1.0.2"), ip("172.1.0.2")]);
        } else {
            // the next hop is the gateway's address, which is unique: routes still planned
            assert_eq!(p.routes.len(), 2, "{node}");
        }
    }
    // a node colliding with the gateway itself cannot route
    t.cluster.nodes[2] = Node {
        name: "a3".into(),
        ip: ip("172.1.0.1"),
        ovn: None,
    };
    let p = plan_for(&t, "a3", Switches::ALL_ON);
    assert!(p.routes.is_empty());
    assert!(
        p.warnings.iter().any(|w| w.contains("also the gateway's")),
        "{:?}",
        p.warnings
    );
    assert_eq!(plan_for(&t, "a2", Switches::ALL_ON).routes.len(), 2);
}

#[test]
fn cable_address_collision() {
    let mut t = example("three-clusters-c");
    // cluster-b's gateway private IP 172.1.0.1 maps to 241.1.0.1 like cluster-a's 10.1.0.1
    t.remote_clusters[1].gateway.private_ip = ip("172.1.0.1");
    let p = plan_for(&t, "c1", Switches::ALL_ON);
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("share the cable VTEP address 241.1.0.1")),
        "{:?}",
        p.warnings
    );
    // and one colliding with this gateway is not routed
    t.remote_clusters[1].gateway.private_ip = ip("172.3.0.1");
    let p = plan_for(&t, "c1", Switches::ALL_ON);
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("cluster cluster-b") && w.contains("not routed")),
        "{:?}",
        p.warnings
    );
    // table 100 keeps cluster-a only; table 150 (no cable next hop) all four
    assert_eq!(p.routes.iter().filter(|r| r.table == 100).count(), 2);
    assert_eq!(p.routes.iter().filter(|r| r.table == 150).count(), 4);
}

#[test]
fn cni_interface_override() {
    let mut t = example("two-clusters-a");
    t.tunables.cni_interface = Some("cni0".into());
    // discovered pod0 is not the configured interface: its address is not used
    let p = plan_for(&t, "a2", Switches::ALL_ON);
    assert!(p
        .sysctls
        .iter()
        .any(|s| s.key == "net.ipv4.conf.cni0.rp_filter"));
    assert!(p.routes.iter().all(|r| r.src.is_none()));
    assert!(p.ruleset.to_string().contains("masquerade"));
}

#[test]
fn ipv6_cidrs() {
    let mut t = example("two-clusters-a");
    t.cluster
        .cluster_cidrs
        .push("fd00:244::/48".parse().unwrap());
    t.remote_clusters[0]
        .subnets
        .push("fd00:245::/48".parse().unwrap());
    let split = Switches {
        inet: false,
        ..Switches::ALL_ON
    };
    let p = plan_for(&t, "a2", split);
    let text = p.ruleset.to_string();
    assert!(
        text.contains("table ip6 routeagent") && text.contains("snat to ip6 saddr"),
        "{text}"
    );
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("fd00:245::/48 is IPv6 and is not routed")),
        "{:?}",
        p.warnings
    );
    let p = plan_for(&t, "a2", Switches::ALL_ON);
    assert!(p.ruleset.to_string().contains("set remote-v6"));
    let p = plan_for(
        &t,
        "a2",
        Switches {
            ipv6: false,
            ..Switches::ALL_ON
        },
    );
    assert!(!p.ruleset.to_string().contains("v6"));
    assert!(p.warnings.iter().any(|w| w.contains("no IPv6 rules")));
}

#[test]
fn comments_are_short() {
    let t = example("three-clusters-c");
    let p = plan_for(&t, "c1", Switches::ALL_ON);
    let n = p
        .ruleset
        .tables
        .iter()
        .flat_map(|t| &t.chains)
        .flat_map(|c| &c.rules)
        .filter_map(|r| r.comment.as_ref())
        .inspect(|c| assert!(c.len() < 128))
        .count();
    assert!(n > 5);
}

#[test]
fn uplink_not_holding_the_node_ip_is_reported() {
    let t = example("two-clusters-a");
    let mut f = lab_facts(&t, "a2");
    f.uplink.addr = ip("10.1.0.3");
    let c = constructs(Switches::ALL_ON);
    let p = plan::plan(&PlanInput {
        topology: &t,
        node: "a2",
        facts: &f,
        constructs: &c,
    })
    .unwrap();
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("uplink eth0 holds 10.1.0.3, not node a2's ip 10.1.0.2")),
        "{:?}",
        p.warnings
    );
}

/// With interval sets, adding or removing remote clusters changes only set
/// elements, so a backend can update the sets instead of swapping the table.
#[test]
fn remote_cluster_changes_are_set_only_deltas() {
    let three = example("three-clusters-c");
    let mut one = three.clone();
    one.remote_clusters.truncate(1);
    let mut none = three.clone();
    none.remote_clusters.clear();
    for node in ["c1", "c2"] {
        let p3 = plan_for(&three, node, Switches::ALL_ON);
        let p1 = plan_for(&one, node, Switches::ALL_ON);
        let p0 = plan_for(&none, node, Switches::ALL_ON);
        let d = p1.ruleset.set_delta(&p3.ruleset).expect("set-only change");
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].set, "remote-v4");
        let added: Vec<String> = d[0].add.iter().map(|n| n.to_string()).collect();
        let removed: Vec<String> = d[0].remove.iter().map(|n| n.to_string()).collect();
        // cluster-b's /16s merge with cluster-a's into /15s
        assert_eq!(added, ["10.96.0.0/15", "10.244.0.0/15"], "{node}");
        assert_eq!(removed, ["10.96.0.0/16", "10.244.0.0/16"], "{node}");
        assert!(p0.ruleset.set_delta(&p1.ruleset).is_some(), "{node}");
        // without interval sets the rules themselves change
        let s = Switches {
            interval_sets: false,
            ..Switches::ALL_ON
        };
        assert!(plan_for(&one, node, s)
            .ruleset
            .set_delta(&plan_for(&three, node, s).ruleset)
            .is_none());
    }
}
