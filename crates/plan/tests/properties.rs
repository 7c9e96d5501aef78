//! Laws of the planner, over generated topologies and every construct
//! combination: order independence, idempotence, every plan validates, and
//! never a `type route` chain on a hook other than output.

mod common;

use capabilities::TableLayout;
use common::*;
use ipnet::IpNet;
use plan::{HostFacts, Iface};
use proptest::prelude::*;
use ruleset::{ChainType, Hook};
use std::net::IpAddr;
use topology::{CableKind, Endpoint, LocalCluster, Node, RemoteCluster, Topology, Tunables};

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}
fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A valid topology from a few knobs. Node i has 10.1.0.(i+1), or
/// 172.1.0.i when its `collide` bit is set (then it shares node i-1's
/// vx-submariner address when that one kept 10.1.0.i).
#[allow(clippy::too_many_arguments)]
fn build(
    n_nodes: usize,
    n_remotes: usize,
    gw: Option<usize>,
    collide: u8,
    public: bool,
    v6: bool,
    mtu: Option<u32>,
    mss: Option<u16>,
) -> Topology {
    let nodes: Vec<Node> = (0..n_nodes)
        .map(|i| Node {
            name: format!("n{i}"),
            ip: if i > 0 && collide & (1 << i) != 0 {
                ip(&format!("172.1.0.{i}"))
            } else {
                ip(&format!("10.1.0.{}", i + 1))
            },
            ovn: None,
        })
        .collect();
    let gateways = gw
        .map(|g| {
            let n = &nodes[g % n_nodes];
            let active = Endpoint {
                hostname: n.name.clone(),
                private_ip: n.ip,
                public_ip: public.then(|| ip("192.168.50.1")),
                health_check_ip: None,
                backend: None,
                backend_config: Default::default(),
            };
            // standby gateways: every other node, no public IP
            let standby = nodes.iter().filter(|m| m.name != n.name).map(|m| Endpoint {
                hostname: m.name.clone(),
                private_ip: m.ip,
                public_ip: None,
                health_check_ip: None,
                backend: None,
                backend_config: Default::default(),
            });
            std::iter::once(active).chain(standby).collect()
        })
        .unwrap_or_default();
    let mut cluster_cidrs = vec![net("10.244.0.0/16")];
    if v6 {
        cluster_cidrs.push(net("fd00:244::/48"));
    }
    let remote_clusters = (0..n_remotes)
        .map(|k| {
            let mut subnets = vec![
                net(&format!("10.{}.0.0/16", 100 + k)),
                net(&format!("10.{}.0.0/16", 110 + k)),
                net(&format!("10.{}.0.0/24", 120 + k)),
            ];
            if v6 {
                subnets.push(net(&format!("fd00:{}::/48", 100 + k)));
            }
            RemoteCluster {
                id: format!("r{k}"),
                subnets,
                gateway: Endpoint {
                    hostname: format!("g{k}"),
                    private_ip: ip(&format!("10.{}.0.1", 2 + k)),
                    public_ip: public.then(|| ip(&format!("192.168.50.{}", 2 + k))),
                    health_check_ip: None,
                    backend: None,
                    backend_config: Default::default(),
                },
            }
        })
        .collect();
    let t = Topology {
        cluster: LocalCluster {
            id: "local".into(),
            cluster_cidrs,
            service_cidrs: vec![net("10.96.0.0/16"), net("10.95.0.0/16")],
            nodes,
            gateways,
            cni: Default::default(),
            cable: Some(CableKind::Vxlan),
            global_cidr: None,
        },
        remote_clusters,
        tunables: Tunables {
            mtu,
            mss,
            ..Tunables::default()
        },
    };
    t.validate().unwrap();
    t
}

/// Deterministic Fisher-Yates shuffle.
fn shuffle<T>(v: &mut [T], seed: &mut u64) {
    for i in (1..v.len()).rev() {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let j = (*seed >> 33) as usize % (i + 1);
        v.swap(i, j);
    }
}

/// The same topology with every order-free list shuffled (not gateways:
/// the first one is the active gateway).
fn permuted(t: &Topology, mut seed: u64) -> Topology {
    let mut p = t.clone();
    shuffle(&mut p.cluster.nodes, &mut seed);
    shuffle(&mut p.cluster.cluster_cidrs, &mut seed);
    shuffle(&mut p.cluster.service_cidrs, &mut seed);
    shuffle(&mut p.remote_clusters, &mut seed);
    if let Some((_, rest)) = p.cluster.gateways.split_first_mut() {
        shuffle(rest, &mut seed);
    }
    for r in &mut p.remote_clusters {
        shuffle(&mut r.subnets, &mut seed);
    }
    p
}

fn facts(t: &Topology, node: &str, cni: bool) -> HostFacts {
    let n = t.node(node).unwrap();
    HostFacts {
        uplink: Iface {
            name: "eth0".into(),
            mtu: 1500,
            addr: n.ip,
        },
        cni: cni.then(|| Iface {
            name: "cni0".into(),
            mtu: 1450,
            addr: ip("10.244.9.1"),
        }),
        public: None,
        default_route: None,
        next_hops: Default::default(),
    }
}

fn switches(bits: u8) -> Switches {
    Switches::every().nth(usize::from(bits % 128)).unwrap()
}

fn plan_of(t: &Topology, node: &str, cni: bool, s: Switches) -> plan::HostPlan {
    let f = facts(t, node, cni);
    let c = constructs(s);
    plan::plan(&plan::PlanInput {
        topology: t,
        node,
        facts: &f,
        constructs: &c,
    })
    .unwrap()
}

/// No chain of the plan is `type route` on a hook other than output
/// (Submariner's #3355: route + postrouting is EOPNOTSUPP on every kernel).
fn assert_no_route_chain_off_output(p: &plan::HostPlan) {
    for t in &p.ruleset.tables {
        for c in &t.chains {
            if let Some(b) = c.base {
                assert!(
                    !(b.ty == ChainType::Route && b.hook != Hook::Output),
                    "table {} {} chain {} is type route on {}",
                    t.family,
                    t.name,
                    c.name,
                    b.hook
                );
                assert!(ruleset::hook::chain_allowed(b.ty, b.hook, b.priority).is_none());
            }
        }
    }
}

prop_compose! {
    fn topo()(n_nodes in 1usize..7, n_remotes in 0usize..4, gw in prop::option::weighted(0.9, 0usize..7), collide in any::<u8>(),
              public in any::<bool>(), v6 in any::<bool>(), mtu in prop::option::of(576u32..9000), mss in prop::option::of(536u16..1460)) -> Topology {
        build(n_nodes, n_remotes, gw, collide, public, v6, mtu, mss)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn independent_of_input_order(t in topo(), seed in any::<u64>(), pick in any::<usize>(), bits in any::<u8>(), cni in any::<bool>()) {
        let node = t.cluster.nodes[pick % t.cluster.nodes.len()].name.clone();
        let s = switches(bits);
        let a = plan_of(&t, &node, cni, s);
        let b = plan_of(&permuted(&t, seed), &node, cni, s);
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(plan::ip_commands(&a), plan::ip_commands(&b));
        prop_assert_eq!(a.ruleset.to_string(), b.ruleset.to_string());
    }

    #[test]
    fn idempotent_and_valid(t in topo(), pick in any::<usize>(), bits in any::<u8>(), cni in any::<bool>()) {
        let node = t.cluster.nodes[pick % t.cluster.nodes.len()].name.clone();
        let s = switches(bits);
        let a = plan_of(&t, &node, cni, s);
        prop_assert_eq!(&a, &plan_of(&t, &node, cni, s));
        prop_assert!(ruleset::validate(&a.ruleset).is_ok());
        assert_no_route_chain_off_output(&a);
        // structure every plan has
        prop_assert_eq!(&a.links[0].name, "vx-submariner");
        let is_gw = t.is_gateway(&node);
        prop_assert_eq!(a.links.len(), if is_gw { 2 } else { 1 });
        // own cable on the gateway: rules pref 100 (table 100) and 150
        prop_assert_eq!(a.rules.len(), 2 * usize::from(is_gw && !t.remote_clusters.is_empty()));
        for r in &a.routes {
            match r.table {
                254 => prop_assert!(!is_gw && r.onlink && r.via.is_some()),
                100 => prop_assert!(is_gw && r.via.is_some() && r.dev == "vxlan-tunnel"),
                150 => prop_assert!(is_gw && r.via.is_none() && r.dev == "eth0"),
                other => prop_assert!(false, "table {}", other),
            }
        }
        if !is_gw && t.active_gateway().is_some() && a.warnings.iter().all(|w| !w.contains("also the gateway's")) {
            prop_assert_eq!(a.routes.len(), t.remote_clusters.len() * 3);
        }
    }
}

#[test]
fn every_construct_combination_validates() {
    let topos = [
        example("two-clusters-a"),
        example("three-clusters-c"),
        build(4, 2, Some(1), 0b100, true, true, None, Some(1300)),
        build(2, 0, Some(0), 0, false, true, Some(1400), None),
    ];
    let mut n = 0;
    for t in &topos {
        for node in t.cluster.nodes.iter().map(|n| n.name.clone()) {
            for s in Switches::every() {
                for cni in [true, false] {
                    let p = plan_of(t, &node, cni, s);
                    if let Err(e) = ruleset::validate(&p.ruleset) {
                        panic!("{node} {s:?}: {e}\n{}", p.ruleset);
                    }
                    assert_no_route_chain_off_output(&p);
                    let c = constructs(s);
                    // layout: inet -> one inet table; split -> ip (+ ip6)
                    let fams: Vec<_> = p.ruleset.tables.iter().map(|t| t.family.as_str()).collect();
                    let has_v6 = t
                        .local_cidrs()
                        .iter()
                        .chain(&t.remote_cidrs())
                        .any(|c| c.addr().is_ipv6());
                    match c.layout {
                        TableLayout::Inet => assert_eq!(fams, ["inet"]),
                        TableLayout::Split if has_v6 && s.ipv6 => assert_eq!(fams, ["ip", "ip6"]),
                        TableLayout::Split => assert_eq!(fams, ["ip"]),
                    }
                    for tb in &p.ruleset.tables {
                        assert_eq!(tb.name, "routeagent");
                        assert_eq!(tb.chain("ra-mss").is_some(), s.mss_clamp);
                        assert_eq!(tb.sets.is_empty(), !s.interval_sets);
                        let text = tb.to_string();
                        assert_eq!(text.contains("comment"), s.comments, "{text}");
                        assert_eq!(
                            text.contains("saddr snat")
                                || text.contains("to ip saddr")
                                || text.contains("to ip6 saddr"),
                            s.self_snat && (s.interval_sets || !t.remote_clusters.is_empty()),
                            "{text}"
                        );
                    }
                    n += 1;
                }
            }
        }
    }
    assert!(n > 2000, "{n}");
}
