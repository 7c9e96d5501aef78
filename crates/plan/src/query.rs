//! Which node, which role, which interfaces to look for: the question the
//! agent asks the host before it plans, worked out once from the topology
//! and the node's name. The reconcile pass, `routeagent plan` and the host
//! adapter all use [`FactsQuery`]; `hostnet` answers it with a
//! [`crate::HostFacts`].

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;
use topology::{Topology, TopologyError};

/// What a node does in its cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// The active gateway: table 150, the cable, FDB entries for every node.
    Gateway,
    /// Every other node: routes to the gateway over `vx-submariner`.
    NonGateway,
}

impl Role {
    /// The role of `node` in `topo`: the gateway when it is the active
    /// gateway's hostname.
    pub fn of(topo: &Topology, node: &str) -> Role {
        if topo.is_gateway(node) {
            Role::Gateway
        } else {
            Role::NonGateway
        }
    }

    /// `gateway` or `non-gateway`, as `/status`, logs and metrics show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Gateway => "gateway",
            Role::NonGateway => "non-gateway",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The host facts a plan for one node needs to know, and how to find them
/// (the equivalent of `ip -o addr show to NODE_IP` for the uplink, the
/// interface inside the cluster CIDRs for the CNI, and the public IP's
/// holder on the gateway).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactsQuery {
    /// The node's name.
    pub node: String,
    /// Its role in the topology.
    pub role: Role,
    /// The node's IP: the interface holding it is the uplink.
    pub node_ip: IpAddr,
    /// The local cluster CIDRs: the CNI interface holds an address inside one.
    pub cluster_cidrs: Vec<IpNet>,
    /// `tunables.cniInterface`: the CNI interface by name, overriding discovery.
    pub cni_interface: Option<String>,
    /// The active gateway's public IP, asked for on the gateway only.
    pub public_ip: Option<IpAddr>,
    /// Remote gateway IPs inside their own cluster's subnets, whose next
    /// hop an external cable's table-150 routes need (gateway only;
    /// Submariner issue #1106).
    pub next_hop_for: Vec<IpAddr>,
}

impl FactsQuery {
    /// The query for `node` in `topo`; [`TopologyError::UnknownNode`] when
    /// the topology does not list it.
    pub fn new(topo: &Topology, node: &str) -> Result<FactsQuery, TopologyError> {
        let n = topo.node(node)?;
        let role = Role::of(topo, node);
        let public_ip = match role {
            Role::Gateway => topo.active_gateway().and_then(|g| g.public_ip),
            Role::NonGateway => None,
        };
        let next_hop_for = match role {
            Role::Gateway => topo
                .remote_clusters
                .iter()
                .filter_map(crate::routes::gateway_inside)
                .collect(),
            Role::NonGateway => vec![],
        };
        Ok(FactsQuery {
            node: node.to_string(),
            role,
            node_ip: n.ip,
            cluster_cidrs: topo.cluster.cluster_cidrs.clone(),
            cni_interface: topo.tunables.cni_interface.clone(),
            public_ip,
            next_hop_for,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "cluster:\n  id: a\n  clusterCIDRs: [10.244.0.0/16]\n  serviceCIDRs: [10.96.0.0/16]\n  nodes:\n    - {name: a1, ip: 10.1.0.1}\n    - {name: a2, ip: 10.1.0.2}\n  gateways:\n    - {hostname: a1, privateIP: 10.1.0.1, publicIP: 192.168.50.1}\n";

    #[test]
    fn gateway_asks_for_the_public_ip_and_others_do_not() {
        let t = Topology::from_yaml(YAML).unwrap();
        let gw = FactsQuery::new(&t, "a1").unwrap();
        assert_eq!(gw.role, Role::Gateway);
        assert_eq!(gw.public_ip, Some("192.168.50.1".parse().unwrap()));
        assert_eq!(gw.node_ip, "10.1.0.1".parse::<IpAddr>().unwrap());
        let other = FactsQuery::new(&t, "a2").unwrap();
        assert_eq!(other.role, Role::NonGateway);
        assert_eq!(other.public_ip, None);
        assert_eq!(other.cluster_cidrs, vec!["10.244.0.0/16".parse().unwrap()]);
    }

    #[test]
    fn unknown_node_is_named() {
        let t = Topology::from_yaml(YAML).unwrap();
        let e = FactsQuery::new(&t, "zz").unwrap_err();
        assert!(e.to_string().contains("zz"), "{e}");
    }

    #[test]
    fn role_text_matches_status_and_serde() {
        assert_eq!(Role::NonGateway.to_string(), "non-gateway");
        assert_eq!(
            serde_json::to_string(&Role::Gateway).unwrap(),
            "\"gateway\""
        );
    }
}
