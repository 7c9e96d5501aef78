//! What the planner is given, and the normalised view of it the steps
//! read: every list sorted, so that the plan does not depend on the order
//! of the topology file.

use crate::host::HostFacts;
use crate::PlanError;
use capabilities::Constructs;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr};
use topology::{CableKind, Endpoint, Node, RemoteCluster, Topology, Tunables};

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
    /// Local cluster + service CIDRs, sorted, deduplicated; under Globalnet
    /// cluster CIDRs + the global CIDR, as Submariner builds LOCALCIDRS then.
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
            local_cidrs: sorted(match topo.cluster.global_cidr {
                Some(g) => topo
                    .cluster
                    .cluster_cidrs
                    .iter()
                    .copied()
                    .chain([g])
                    .collect(),
                None => topo.local_cidrs(),
            }),
            remote_cidrs: sorted(topo.remote_cidrs()),
        })
    }

    pub fn tunables(&self) -> &'a Tunables {
        &self.topo.tunables
    }

    /// The device table-150 routes leave by (Submariner's route agent's
    /// choice): the local Endpoint's `backendConfig["interface-name"]`
    /// (WireGuard: `submariner`), else the default-route interface, else
    /// (with a warning) the public interface or the uplink.
    pub fn cable_dev(&self, local: &Endpoint, warnings: &mut Vec<String>) -> String {
        if let Some(name) = local.interface_name() {
            return name.to_string();
        }
        if let Some(d) = &self.facts.default_route {
            return d.name.clone();
        }
        let f = self.facts.public.as_ref().unwrap_or(&self.facts.uplink);
        warnings.push(format!(
            "no IPv4 default route: table 150 routes leave by {} instead of the default-route interface; add a default route or set the local Endpoint's backendConfig interface-name",
            f.name
        ));
        f.name.clone()
    }

    /// Whether the cable is VXLAN (the own one, or an external one whose
    /// local Endpoint says `backend: vxlan`).
    pub fn vxlan_cable(&self) -> bool {
        self.topo.cluster.cable == Some(CableKind::Vxlan)
            || self.gateway.and_then(|g| g.backend.as_deref()) == Some(CableKind::Vxlan.as_str())
    }

    /// The MSS for TCP over an IPsec cable on interface `dev`: its MTU (the
    /// default-route interface's, else the uplink's) -
    /// [`IPSEC_MSS_OVERHEAD`], at least the smallest valid MSS.
    pub fn ipsec_mss(&self, dev: &str) -> u16 {
        let mtu = [self.facts.default_route.as_ref(), Some(&self.facts.uplink)]
            .into_iter()
            .flatten()
            .find(|i| i.name == dev)
            .unwrap_or(&self.facts.uplink)
            .mtu;
        u16::try_from(mtu.saturating_sub(IPSEC_MSS_OVERHEAD))
            .unwrap_or(u16::MAX)
            .max(topology::validate::MIN_MSS)
    }

    /// The fixed TCP MSS, if any: tunables.mss (the Kubernetes source puts
    /// the node annotation `submariner.io/tcp-clamp-mss` there); else under
    /// Globalnet, as Submariner's route agent forces it, the default-route
    /// interface MTU (else the uplink's) - [`GLOBALNET_MSS_OVERHEAD`], -
    /// [`crate::links::VXLAN_OVERHEAD`] more on a VXLAN cable.
    pub fn fixed_mss(&self) -> Option<u16> {
        if let Some(m) = self.tunables().mss {
            return Some(m);
        }
        self.topo.cluster.global_cidr?;
        let mtu = self
            .facts
            .default_route
            .as_ref()
            .unwrap_or(&self.facts.uplink)
            .mtu;
        let vxlan = if self.vxlan_cable() {
            crate::links::VXLAN_OVERHEAD
        } else {
            0
        };
        let v = mtu.saturating_sub(GLOBALNET_MSS_OVERHEAD + vxlan);
        Some(
            u16::try_from(v)
                .unwrap_or(u16::MAX)
                .max(topology::validate::MIN_MSS),
        )
    }
}

/// What Submariner's OVN handler's fixed forward MSS (1398 = 1500 - 40 -
/// 62) takes from a 1500 link: IP and TCP headers and the IPsec overhead.
pub const IPSEC_MSS_OVERHEAD: u32 = 102;

/// What Submariner's route agent subtracts from the default-route MTU for
/// the fixed MSS under Globalnet (IP + TCP headers and the cable's
/// overhead).
pub const GLOBALNET_MSS_OVERHEAD: u32 = 120;

fn sorted(mut v: Vec<IpNet>) -> Vec<IpNet> {
    v.sort();
    v.dedup();
    v
}
