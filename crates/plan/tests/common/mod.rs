//! Shared test inputs: the lab topologies, host facts as the lab has them,
//! and constructs with chosen features on or off.
#![allow(dead_code)]

use capabilities::{choose, Capabilities, Constructs, PacketFilterRequest, TableLayout};
use plan::{HostFacts, Iface};
use std::net::IpAddr;
use topology::Topology;

/// An example topology of the topology crate (`two-clusters-a`, ...).
pub fn example(name: &str) -> Topology {
    Topology::load(format!(
        "{}/../../examples/{name}.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The lab's host facts for `node`: eth0 (MTU 1500) holds the node IP,
/// pod0 holds the first address of the node's pod /24 (10.24x.<i>.1, i =
/// last octet of the node IP), and a gateway with a public IP has it on eth1.
pub fn lab_facts(t: &Topology, node: &str) -> HostFacts {
    let n = t.node(node).unwrap();
    let IpAddr::V4(ip) = n.ip else {
        panic!("lab nodes are IPv4")
    };
    let [_, c, _, i] = ip.octets();
    let cni: IpAddr = format!("10.{}.{i}.1", 243 + u16::from(c)).parse().unwrap();
    let public = t
        .active_gateway()
        .filter(|g| g.hostname == node)
        .and_then(|g| g.public_ip)
        .map(|addr| Iface {
            name: "eth1".into(),
            mtu: 1500,
            addr,
        });
    HostFacts {
        uplink: Iface {
            name: "eth0".into(),
            mtu: 1500,
            addr: n.ip,
        },
        cni: Some(Iface {
            name: "pod0".into(),
            mtu: 1500,
            addr: cni,
        }),
        public,
        default_route: None,
        next_hops: Default::default(),
    }
}

/// Feature switches for [`constructs`].
#[derive(Debug, Clone, Copy)]
pub struct Switches {
    pub inet: bool,
    pub mss_clamp: bool,
    pub self_snat: bool,
    pub masquerade: bool,
    pub comments: bool,
    pub interval_sets: bool,
    pub ipv6: bool,
}

impl Switches {
    pub const ALL_ON: Switches = Switches {
        inet: true,
        mss_clamp: true,
        self_snat: true,
        masquerade: true,
        comments: true,
        interval_sets: true,
        ipv6: true,
    };

    /// Every one of the 2^7 combinations.
    pub fn every() -> impl Iterator<Item = Switches> {
        (0u32..128).map(|b| Switches {
            inet: b & 1 != 0,
            mss_clamp: b & 2 != 0,
            self_snat: b & 4 != 0,
            masquerade: b & 8 != 0,
            comments: b & 16 != 0,
            interval_sets: b & 32 != 0,
            ipv6: b & 64 != 0,
        })
    }
}

/// Constructs of a fully capable host, with the switches applied.
pub fn constructs(s: Switches) -> Constructs {
    let mut c = choose(&Capabilities::full(), PacketFilterRequest::Auto).unwrap();
    c.layout = if s.inet {
        TableLayout::Inet
    } else {
        TableLayout::Split
    };
    c.mss_clamp = s.mss_clamp;
    c.self_snat = s.self_snat;
    c.masquerade = s.masquerade;
    c.comments = s.comments;
    c.interval_sets = s.interval_sets;
    c.ipv6 = s.ipv6;
    c
}

/// Plans `node` of `t` with the lab facts and `s`.
pub fn plan_for(t: &Topology, node: &str, s: Switches) -> plan::HostPlan {
    let facts = lab_facts(t, node);
    let c = constructs(s);
    plan::plan(&plan::PlanInput {
        topology: t,
        node,
        facts: &facts,
        constructs: &c,
    })
    .unwrap()
}

/// The full text of a plan: nft ruleset, ip commands, warnings.
pub fn render(p: &plan::HostPlan) -> String {
    let mut s = String::from("# nft\n");
    s.push_str(&p.ruleset.to_string());
    s.push_str("# ip\n");
    for c in plan::ip_commands(p) {
        s.push_str(&c);
        s.push('\n');
    }
    s.push_str("# warnings\n");
    for w in &p.warnings {
        s.push_str(w);
        s.push('\n');
    }
    s
}
