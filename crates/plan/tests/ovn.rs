//! Golden plans of the OVN-Kubernetes datapath's host side: a gateway, a
//! non-gateway node, and a node where OVN-Kubernetes has no cluster-CIDR
//! route on `ovn-k8s-mp0` yet. Regenerate with
//! `UPDATE_GOLDEN=1 cargo test -p plan --test ovn` and review the diff.

mod common;

use common::*;
use plan::{HostFacts, Iface, OvnFacts};
use topology::Topology;

/// OVN-Kubernetes hosts: the CNI interface is `ovn-k8s-mp0` holding
/// 10.244.<i>.2; the cluster router is 10.244.<i>.1.
fn ovn_facts(t: &Topology, node: &str) -> (HostFacts, OvnFacts) {
    let mut facts = lab_facts(t, node);
    let std::net::IpAddr::V4(pod0) = facts.cni.as_ref().unwrap().addr else {
        unreachable!()
    };
    let [a, b, c, _] = pod0.octets();
    let mp0 = std::net::Ipv4Addr::new(a, b, c, 2);
    facts.cni = Some(Iface {
        name: "ovn-k8s-mp0".into(),
        mtu: 1400,
        addr: mp0.into(),
    });
    let ovn = OvnFacts {
        mp0: "ovn-k8s-mp0".into(),
        mp0_addr: Some(mp0),
        router: Some(std::net::Ipv4Addr::new(a, b, c, 1)),
    };
    (facts, ovn)
}

/// Plans `node` of `t` on the OVN datapath with an external cable (as in
/// Kubernetes: the gateway engine's), whatever the example file says.
fn plan_ovn(t: &Topology, node: &str, ovn: Option<OvnFacts>) -> plan::HostPlan {
    let mut t = t.clone();
    t.cluster.cable = None;
    let t = &t;
    let (facts, discovered) = ovn_facts(t, node);
    let c = constructs(Switches::ALL_ON);
    let input = plan::PlanInput {
        topology: t,
        node,
        facts: &facts,
        constructs: &c,
    };
    plan::plan_ovn(&input, &ovn.unwrap_or(discovered)).unwrap()
}

fn check(name: &str, p: &plan::HostPlan) {
    let text = render(p);
    let path = format!("{}/tests/golden/{name}.txt", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}; run with UPDATE_GOLDEN=1 to create it"));
    assert!(want == text, "{name} differs from {path}:\n{text}");
}

#[test]
fn ovn_gateway() {
    check(
        "ovn-gateway",
        &plan_ovn(&example("two-clusters-a"), "a1", None),
    );
}

#[test]
fn ovn_non_gateway() {
    check(
        "ovn-non-gateway",
        &plan_ovn(&example("two-clusters-a"), "a2", None),
    );
}

#[test]
fn ovn_without_the_cluster_router_route() {
    let ovn = OvnFacts {
        mp0: "ovn-k8s-mp0".into(),
        mp0_addr: None,
        router: None,
    };
    check(
        "ovn-no-router",
        &plan_ovn(&example("two-clusters-a"), "a2", Some(ovn)),
    );
}

/// No vx-submariner on the OVN datapath, on any node; every rule has a
/// selector (table 150 holds a default route on non-gateway nodes).
#[test]
fn no_vx_submariner_and_no_catch_all_rule() {
    let t = example("three-clusters-c");
    for node in t.cluster.nodes.iter().map(|n| n.name.clone()) {
        let p = plan_ovn(&t, &node, None);
        assert!(p.links.iter().all(|l| l.name != "vx-submariner"), "{node}");
        assert!(
            p.rules.iter().all(|r| r.to.is_some()),
            "{node}: {:?}",
            p.rules
        );
        assert!(!p.ruleset.to_string().contains("vx-submariner"), "{node}");
    }
}

/// The gateway's forward rules name both interfaces and the remote side,
/// in every construct combination; no rule accepts by one interface alone
/// (the external cable is the uplink here); other nodes have none.
#[test]
fn forward_rules_are_scoped_to_mp0_and_the_cable() {
    let mut t = example("two-clusters-a");
    t.cluster.cable = None;
    for s in Switches::every() {
        let c = constructs(s);
        for node in ["a1", "a2"] {
            let (facts, ovn) = ovn_facts(&t, node);
            let input = plan::PlanInput {
                topology: &t,
                node,
                facts: &facts,
                constructs: &c,
            };
            let p = plan::plan_ovn(&input, &ovn).unwrap();
            let text = p.ruleset.to_string();
            let forward: Vec<&str> = text
                .lines()
                .filter(|l| l.contains("iifname") || l.contains("oifname"))
                .collect();
            if node == "a2" {
                assert!(forward.is_empty(), "{s:?}: {forward:?}");
                continue;
            }
            let accepts = forward.iter().filter(|l| l.contains(" accept")).count();
            // Without interval sets: one rule per remote prefix and direction.
            let per_direction = if s.interval_sets { 1 } else { 2 };
            assert_eq!(accepts, 2 * per_direction, "{s:?}: {forward:?}");
            let clamps = forward.iter().filter(|l| l.contains("maxseg")).count();
            assert_eq!(
                clamps,
                if s.mss_clamp { accepts } else { 0 },
                "{s:?}: {forward:?}"
            );
            for l in &forward {
                let l = l.trim();
                let outbound = l.contains("iifname \"ovn-k8s-mp0\" oifname \"eth1\" ip daddr ");
                let inbound = l.contains("iifname \"eth1\" oifname \"ovn-k8s-mp0\" ip saddr ");
                assert!(outbound || inbound, "{s:?}: unscoped rule {l}");
            }
        }
    }
}

/// With routeagent's own cable the pair is `ovn-k8s-mp0` <-> `vxlan-tunnel`.
#[test]
fn own_cable_is_the_forward_peer() {
    let t = example("two-clusters-a");
    assert!(
        t.cluster.cable.is_some(),
        "the example builds its own cable"
    );
    let (facts, ovn) = ovn_facts(&t, "a1");
    let c = constructs(Switches::ALL_ON);
    let input = plan::PlanInput {
        topology: &t,
        node: "a1",
        facts: &facts,
        constructs: &c,
    };
    let text = plan::plan_ovn(&input, &ovn).unwrap().ruleset.to_string();
    assert!(
        text.contains(
            "iifname \"ovn-k8s-mp0\" oifname \"vxlan-tunnel\" ip daddr @remote-v4 accept"
        ),
        "{text}"
    );
}

/// The forward clamp: upstream's 1398 (MTU 1500 - 102) on an IPsec cable
/// without an interface of its own, the route MTU on a cable interface
/// (WireGuard's `interface-name`, the own cable), `tunables.mss` over both.
#[test]
fn forward_clamp_follows_the_cable() {
    let clamps = |t: &Topology| -> Vec<String> {
        let (mut facts, ovn) = ovn_facts(t, "a1");
        facts.uplink.mtu = 1500;
        let c = constructs(Switches::ALL_ON);
        let input = plan::PlanInput {
            topology: t,
            node: "a1",
            facts: &facts,
            constructs: &c,
        };
        let text = plan::plan_ovn(&input, &ovn).unwrap().ruleset.to_string();
        text.lines()
            .filter(|l| l.contains("clamp TCP MSS between OVN and the cable"))
            .map(|l| {
                l.split("maxseg size set ")
                    .nth(1)
                    .unwrap()
                    .split(' ')
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let mut t = example("two-clusters-a");
    assert_eq!(clamps(&t), ["rt", "rt"], "own cable");
    t.cluster.cable = None;
    assert_eq!(clamps(&t), ["1398", "1398"], "IPsec on the uplink");
    t.cluster.gateways[0]
        .backend_config
        .insert("interface-name".into(), "submariner".into());
    assert_eq!(clamps(&t), ["rt", "rt"], "WireGuard's interface");
    t.tunables.mss = Some(1300);
    assert_eq!(clamps(&t), ["1300", "1300"], "tunables.mss");
}

/// Egress keeps its source by a self-SNAT unless OVN-Kubernetes runs in
/// shared gateway mode (nothing masquerades it there); ingress always.
#[test]
fn egress_self_snat_unless_shared_gateway_mode() {
    let egress = |mode: Option<topology::GatewayMode>| -> String {
        let mut t = example("two-clusters-a");
        t.cluster.cable = None;
        t.cluster.nodes[0].ovn = mode.map(|m| topology::OvnNode {
            gateway_mode: Some(m),
            ..Default::default()
        });
        let text = render(&plan_ovn(&t, "a1", None));
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| {
                l.contains("ip saddr @local-v4 ip daddr @remote-v4") && !l.contains("maxseg")
            })
            .collect();
        assert_eq!(lines.len(), 1, "{text}");
        assert!(
            text.contains("ip saddr @remote-v4 ip daddr @local-v4 snat ip to ip saddr"),
            "{text}"
        );
        lines[0].to_string()
    };
    assert!(egress(None).contains("snat ip to ip saddr"));
    assert!(egress(Some(topology::GatewayMode::Local)).contains("snat ip to ip saddr"));
    let shared = egress(Some(topology::GatewayMode::Shared));
    assert!(
        shared.contains(" accept") && !shared.contains("snat"),
        "{shared}"
    );
}
