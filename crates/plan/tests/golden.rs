//! Golden plans: the full nft text, ip commands and warnings of typical
//! nodes. Regenerate with `UPDATE_GOLDEN=1 cargo test -p plan --test golden`
//! and review the diff.

mod common;

use common::*;
use topology::Topology;

fn check(name: &str, p: &plan::HostPlan) {
    let text = render(p);
    let path = format!("{}/tests/golden/{name}.txt", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}; run with UPDATE_GOLDEN=1 to create it"));
    if want != text {
        for (i, (w, g)) in want.lines().zip(text.lines()).enumerate() {
            if w != g {
                panic!("{name}: first difference at line {}:\n want: {w}\n  got: {g}\n\nfull plan:\n{text}", i + 1);
            }
        }
        panic!("{name}: lengths differ\n\nfull plan:\n{text}");
    }
}

#[test]
fn gateway_node() {
    let t = example("two-clusters-a");
    check("gateway", &plan_for(&t, "a1", Switches::ALL_ON));
}

#[test]
fn non_gateway_node() {
    let t = example("two-clusters-a");
    check("non-gateway", &plan_for(&t, "a2", Switches::ALL_ON));
}

/// No MSS clamp, no self-SNAT, split tables, no comments.
#[test]
fn degraded() {
    let t = example("two-clusters-b");
    let s = Switches {
        inet: false,
        mss_clamp: false,
        self_snat: false,
        comments: false,
        ..Switches::ALL_ON
    };
    check("degraded", &plan_for(&t, "b1", s));
}

/// No interval sets (rules per prefix pair), no CNI address known (so
/// masquerade), a fixed MSS, three clusters.
#[test]
fn expanded_without_sets_or_cni() {
    let mut t = example("three-clusters-c");
    t.tunables.mss = Some(1300);
    let mut facts = lab_facts(&t, "c2");
    facts.cni = None;
    let c = constructs(Switches {
        interval_sets: false,
        comments: false,
        ..Switches::ALL_ON
    });
    let p = plan::plan(&plan::PlanInput {
        topology: &t,
        node: "c2",
        facts: &facts,
        constructs: &c,
    })
    .unwrap();
    check("expanded", &p);
}

#[test]
fn no_remote_clusters() {
    let mut t: Topology = example("two-clusters-a");
    t.remote_clusters.clear();
    let p = plan_for(&t, "a1", Switches::ALL_ON);
    assert!(p.routes.is_empty() && p.rules.is_empty());
    check("no-remotes", &p);
}

/// The topology of `name` without `cable:`: the cable is external.
fn external(name: &str) -> Topology {
    let mut t = example(name);
    t.cluster.cable = None;
    t
}

/// The lab's facts plus a default route on `dev` (MTU 1500).
fn with_default_route(t: &Topology, node: &str, dev: &str) -> plan::HostFacts {
    let mut f = lab_facts(t, node);
    f.default_route = Some(plan::Iface {
        name: dev.into(),
        mtu: 1500,
        addr: "192.168.50.1".parse().unwrap(),
    });
    f
}

fn plan_with(t: &Topology, node: &str, facts: &plan::HostFacts) -> plan::HostPlan {
    plan::plan(&plan::PlanInput {
        topology: t,
        node,
        facts,
        constructs: &constructs(Switches::ALL_ON),
    })
    .unwrap()
}

/// External cable (libreswan-like): no cable objects; table 150 through
/// the default-route interface, scope link.
#[test]
fn external_cable_default_interface() {
    let t = external("two-clusters-a");
    let p = plan_with(&t, "a1", &with_default_route(&t, "a1", "eth1"));
    assert_eq!(p.links.len(), 1, "only vx-submariner");
    assert!(p.routes.iter().all(|r| r.table == 150 && r.dev == "eth1"));
    check("external-default", &p);
}

/// External WireGuard cable: table 150 through the Endpoint's
/// `interface-name`, a remote gateway inside its own subnet routed via the
/// next hop towards it (Submariner issue #1106).
#[test]
fn external_cable_wireguard_interface_name() {
    let mut t = external("two-clusters-a");
    let g = &mut t.cluster.gateways[0];
    g.backend = Some("wireguard".into());
    g.backend_config
        .insert("interface-name".into(), "submariner".into());
    t.remote_clusters[0].subnets[1] = "10.2.0.0/16".parse().unwrap();
    t.validate().unwrap();
    let q = plan::FactsQuery::new(&t, "a1").unwrap();
    assert_eq!(
        q.next_hop_for,
        ["10.2.0.1".parse::<std::net::IpAddr>().unwrap()]
    );
    let mut f = with_default_route(&t, "a1", "eth1");
    f.next_hops.insert(
        "10.2.0.1".parse().unwrap(),
        "192.168.50.254".parse().unwrap(),
    );
    let p = plan_with(&t, "a1", &f);
    assert!(p.routes.iter().all(|r| r.dev == "submariner"));
    check("external-wireguard", &p);
}

/// Globalnet beside an external cable: no local-to-remote NAT rule, the
/// local set is cluster CIDRs + the global CIDR, MSS fixed at MTU - 120.
#[test]
fn globalnet_external_cable() {
    let mut t = external("two-clusters-a");
    t.cluster.global_cidr = Some("242.0.0.0/16".parse().unwrap());
    t.remote_clusters[0].subnets = vec!["242.1.0.0/16".parse().unwrap()];
    t.validate().unwrap();
    let p = plan_with(&t, "a1", &with_default_route(&t, "a1", "eth1"));
    let nft = p.ruleset.to_string();
    assert!(nft.contains("tcp option maxseg size set 1380"), "{nft}");
    assert!(!nft.contains("meta mark"), "{nft}");
    check("globalnet", &p);
}

/// Globalnet with the own VXLAN cable: MSS 1500 - 120 - 50; a non-gateway.
#[test]
fn globalnet_own_vxlan_cable() {
    let mut t = example("two-clusters-a");
    t.cluster.global_cidr = Some("242.0.0.0/16".parse().unwrap());
    t.remote_clusters[0].subnets = vec!["242.1.0.0/16".parse().unwrap()];
    let p = plan_with(&t, "a2", &lab_facts(&t, "a2"));
    assert!(p.ruleset.to_string().contains("maxseg size set 1330"));
    check("globalnet-vxlan-non-gateway", &p);
}
