//! [`wanted`]: the northbound state this node wants, from a topology
//! snapshot.
//!
//! - The active gateway: [`desired`] for every remote cluster through its
//!   own `ovn-k8s-mp0` address (reroute policies and static routes; what
//!   Submariner's `GatewayRoute` carries).
//! - Under OVN interconnect (the node has a transit switch address), a
//!   node in another zone than the gateway's: in its own zone's database,
//!   reroute policies to the gateway's transit switch address, no static
//!   routes (what Submariner's `NonGatewayRoute` carries). No active
//!   gateway: none (a stale reroute would lead nowhere).
//! - Any other node: `None`. Without interconnect the gateway writes the
//!   one database alone, so a gateway move is one writer replacing the
//!   next hop; a node in the gateway's zone leaves that zone's database to
//!   the gateway.

use std::net::{IpAddr, Ipv4Addr};

use topology::Topology;

use crate::desired::{desired, Desired, Remote, ROLE_GATEWAY, ROLE_INTERCONNECT};

/// What `node` wants in its northbound database (the runner's input).
/// `None`: leave the database alone (see the module doc), or this gateway's
/// management port has no address yet, or the gateway's transit switch
/// address is not known yet.
pub fn wanted(topo: &Topology, node: &str, mp0_addr: Option<Ipv4Addr>) -> Option<Desired> {
    let remotes: Vec<Remote> = topo
        .remote_clusters
        .iter()
        .map(|r| Remote {
            cluster_id: r.id.clone(),
            subnets: r.subnets.clone(),
        })
        .collect();
    if topo.is_gateway(node) {
        let mut d = desired(&remotes, IpAddr::V4(mp0_addr?));
        d.role = ROLE_GATEWAY;
        return Some(d);
    }
    let mine = topo.node(node).ok()?.ovn.as_ref()?;
    mine.transit_switch_ip?;
    let Some(gw) = topo.active_gateway() else {
        return Some(Desired {
            role: ROLE_INTERCONNECT,
            ..Desired::default()
        });
    };
    let theirs = topo.node(&gw.hostname).ok()?.ovn.as_ref()?;
    let via = theirs.transit_switch_ip?;
    let same_zone = match (&mine.zone, &theirs.zone) {
        (Some(a), Some(b)) => a == b,
        _ => mine.transit_switch_ip == Some(via),
    };
    if same_zone {
        return None;
    }
    let mut d = desired(&remotes, IpAddr::V4(via));
    d.routes.clear();
    d.role = ROLE_INTERCONNECT;
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "cluster:\n  id: a\n  clusterCIDRs: [10.128.0.0/14]\n  serviceCIDRs: [172.30.0.0/16]\n  nodes:\n    - {name: a1, ip: 10.1.0.1}\n    - {name: a2, ip: 10.1.0.2}\n  gateways:\n    - {hostname: a1, privateIP: 10.1.0.1, publicIP: 192.168.50.1}\nremoteClusters:\n  - id: b\n    subnets: [10.132.0.0/14, 172.31.0.0/16]\n    gateway: {hostname: b1, privateIP: 10.2.0.1, publicIP: 192.168.50.2}\n";

    /// [`YAML`] with both nodes in zones of their own (interconnect).
    fn interconnect() -> Topology {
        let text = YAML
            .replace(
                "{name: a1, ip: 10.1.0.1}",
                "{name: a1, ip: 10.1.0.1, ovn: {zone: a1, transitSwitchIP: 100.88.0.2}}",
            )
            .replace(
                "{name: a2, ip: 10.1.0.2}",
                "{name: a2, ip: 10.1.0.2, ovn: {zone: a2, transitSwitchIP: 100.88.0.3}}",
            );
        Topology::from_yaml(&text).unwrap()
    }

    #[test]
    fn only_the_gateway_with_an_mp0_address_writes() {
        let t = Topology::from_yaml(YAML).unwrap();
        let addr = Ipv4Addr::new(10, 128, 0, 2);
        let mp0 = Some(addr);
        let d = wanted(&t, "a1", mp0).unwrap();
        let matches: Vec<_> = d.policies.iter().map(|p| p.match_.as_str()).collect();
        assert_eq!(
            matches,
            ["ip4.dst == 10.132.0.0/14", "ip4.dst == 172.31.0.0/16"]
        );
        assert!(d.routes.iter().all(|r| r.nexthop == IpAddr::V4(addr)));
        assert_eq!(d.role, ROLE_GATEWAY);
        assert_eq!(wanted(&t, "a2", mp0), None);
        assert_eq!(wanted(&t, "a1", None), None);
    }

    #[test]
    fn interconnect_zones_reroute_to_the_gateway_s_transit_address() {
        let t = interconnect();
        let mp0 = Some(Ipv4Addr::new(10, 128, 1, 2));
        let gw = wanted(&t, "a1", mp0).unwrap();
        assert_eq!(gw.routes.len(), 2);
        let other = wanted(&t, "a2", mp0).unwrap();
        assert_eq!(other.role, ROLE_INTERCONNECT);
        assert!(other.routes.is_empty());
        let hops: Vec<_> = other.policies.iter().map(|p| p.nexthop).collect();
        let via = IpAddr::V4(Ipv4Addr::new(100, 88, 0, 2));
        assert_eq!(hops, [via, via]);
        assert_eq!(
            other.policies.iter().map(|p| &p.match_).collect::<Vec<_>>(),
            gw.policies.iter().map(|p| &p.match_).collect::<Vec<_>>()
        );
    }

    #[test]
    fn interconnect_edge_cases() {
        let mp0 = Some(Ipv4Addr::new(10, 128, 1, 2));
        // The gateway's zone: the gateway writes it.
        let mut t = interconnect();
        t.cluster.nodes[1].ovn.as_mut().unwrap().zone = Some("a1".into());
        assert_eq!(wanted(&t, "a2", mp0), None);
        // The gateway's transit address unknown: leave the database alone.
        let mut t = interconnect();
        t.cluster.nodes[0].ovn.as_mut().unwrap().transit_switch_ip = None;
        assert_eq!(wanted(&t, "a2", mp0), None);
        // No gateway: no reroutes in this zone.
        let mut t = interconnect();
        t.cluster.gateways.clear();
        let d = wanted(&t, "a2", mp0).unwrap();
        assert!(d.policies.is_empty() && d.routes.is_empty());
        // A gateway move: the old gateway's zone now reroutes to the new one.
        let mut t = interconnect();
        t.cluster.gateways[0].hostname = "a2".into();
        t.cluster.gateways[0].private_ip = "10.1.0.2".parse().unwrap();
        let d = wanted(&t, "a1", mp0).unwrap();
        assert!(d.routes.is_empty());
        assert!(d
            .policies
            .iter()
            .all(|p| p.nexthop == IpAddr::V4(Ipv4Addr::new(100, 88, 0, 3))));
    }
}
