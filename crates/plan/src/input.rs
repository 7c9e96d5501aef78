//! What the planner is given, and the normalised view of it the steps
//! read: every list sorted, so that the plan does not depend on the order
//! of the topology file.

use crate::host::HostFacts;
use crate::PlanError;
use capabilities::Constructs;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr};
use topology::{Endpoint, Node, RemoteCluster, Topology, Tunables};

/// Everything a plan depends on.
#[derive(Debug, Clone, Copy)]
pub struct PlanInput<'a> {
    /// The topology snapshot.
    pub topology: &'a Topology,
    /// This node's name (`--node`, `NODE_NAME`).
    pub node: &'a str,
    /// What was discovered on the host (uplink, CNI interface, public interface).
    pub facts: &'a HostFacts,
    /// The packet-filter constructs chosen from the host's capabilities.
    pub constructs: &'a Constructs,
}

/// The normalised input.
pub(crate) struct Ctx<'a> {
    pub topo: &'a Topology,
    pub node: &'a Node,
    pub facts: &'a HostFacts,
    pub constructs: &'a Constructs,
    /// The active gateway, if any.
    pub gateway: Option<&'a Endpoint>,
    /// Whether this node is the active gateway ([`crate::Role::of`]).
    pub is_gateway: bool,
    /// Every node, sorted by name.
    pub nodes: Vec<&'a Node>,
    /// Remote clusters, sorted by id.
    pub remotes: Vec<&'a RemoteCluster>,
    /// The CNI interface name (tunables.cniInterface, else discovered).
    pub cni_name: Option<String>,
    /// Its IPv4 address, if known.
    pub cni_ip: Option<Ipv4Addr>,
    /// Local cluster + service CIDRs, sorted, deduplicated.
    pub local_cidrs: Vec<IpNet>,
    /// All remote subnets, sorted, deduplicated.
    pub remote_cidrs: Vec<IpNet>,
}

impl<'a> Ctx<'a> {
    pub fn new(input: &PlanInput<'a>) -> Result<Self, PlanError> {
        let topo = input.topology;
        topo.validate()?;
        let node = topo.node(input.node)?;
        let gateway = topo.active_gateway();
        let mut nodes: Vec<&Node> = topo.cluster.nodes.iter().collect();
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        let mut remotes: Vec<&RemoteCluster> = topo.remote_clusters.iter().collect();
        remotes.sort_by(|a, b| a.id.cmp(&b.id));
        let discovered = input.facts.cni.as_ref();
        let cni_name = topo
            .tunables
            .cni_interface
            .clone()
            .or_else(|| discovered.map(|c| c.name.clone()));
        // The discovered address counts only if it is on the interface in use.
        let cni_ip = discovered
            .filter(|c| Some(&c.name) == cni_name.as_ref())
            .and_then(|c| match c.addr {
                IpAddr::V4(a) => Some(a),
                IpAddr::V6(_) => None,
            });
        Ok(Ctx {
            topo,
            node,
            facts: input.facts,
            constructs: input.constructs,
            gateway,
            is_gateway: crate::Role::of(topo, &node.name) == crate::Role::Gateway,
            nodes,
            remotes,
            cni_name,
            cni_ip,
            local_cidrs: sorted(topo.local_cidrs()),
            remote_cidrs: sorted(topo.remote_cidrs()),
        })
    }

    pub fn tunables(&self) -> &'a Tunables {
        &self.topo.tunables
    }
}

fn sorted(mut v: Vec<IpNet>) -> Vec<IpNet> {
    v.sort();
    v.dedup();
    v
}
