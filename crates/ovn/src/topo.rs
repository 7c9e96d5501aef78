//! [`wanted`]: the northbound state this node wants, from a topology
//! snapshot: on the active gateway, [`desired`] for every remote cluster
//! through the gateway's `ovn-k8s-mp0` address; elsewhere `None` (only the
//! gateway writes, so a gateway move is one writer replacing the next hop).

use std::net::{IpAddr, Ipv4Addr};

use topology::Topology;

use crate::desired::{desired, Desired, Remote};

/// What `node` wants in the northbound database (the runner's input).
/// `None`: not the gateway, or the management port has no address yet.
pub fn wanted(topo: &Topology, node: &str, mp0_addr: Option<Ipv4Addr>) -> Option<Desired> {
    if !topo.is_gateway(node) {
        return None;
    }
    let remotes: Vec<Remote> = topo
        .remote_clusters
        .iter()
        .map(|r| Remote {
            cluster_id: r.id.clone(),
            subnets: r.subnets.clone(),
        })
        .collect();
    Some(desired(&remotes, IpAddr::V4(mp0_addr?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "cluster:\n  id: a\n  clusterCIDRs: [10.128.0.0/14]\n  serviceCIDRs: [172.30.0.0/16]\n  nodes:\n    - {name: a1, ip: 10.1.0.1}\n    - {name: a2, ip: 10.1.0.2}\n  gateways:\n    - {hostname: a1, privateIP: 10.1.0.1, publicIP: 192.168.50.1}\nremoteClusters:\n  - id: b\n    subnets: [10.132.0.0/14, 172.31.0.0/16]\n    gateway: {hostname: b1, privateIP: 10.2.0.1, publicIP: 192.168.50.2}\n";

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
        assert_eq!(wanted(&t, "a2", mp0), None);
        assert_eq!(wanted(&t, "a1", None), None);
    }
}
