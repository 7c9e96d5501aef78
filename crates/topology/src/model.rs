//! The topology types, their YAML shape (camelCase keys, unknown fields
//! refused) and accessors.

use crate::{de, Result, TopologyError};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

/// A whole topology file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Topology {
    /// The local cluster: this node's.
    pub cluster: LocalCluster,
    /// The clusters this one connects to.
    #[serde(default)]
    pub remote_clusters: Vec<RemoteCluster>,
    /// Tunables; every field has a default.
    #[serde(default)]
    pub tunables: Tunables,
}

/// The local cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocalCluster {
    /// Cluster id (`SUBMARINER_CLUSTERID`).
    pub id: String,
    /// Pod networks (`SUBMARINER_CLUSTERCIDR`).
    #[serde(rename = "clusterCIDRs", deserialize_with = "de::cidrs")]
    pub cluster_cidrs: Vec<IpNet>,
    /// Service networks (`SUBMARINER_SERVICECIDR`).
    #[serde(rename = "serviceCIDRs", default, deserialize_with = "de::cidrs")]
    pub service_cidrs: Vec<IpNet>,
    /// Every node of the cluster.
    pub nodes: Vec<Node>,
    /// Local gateway endpoints; the first one is the active gateway.
    #[serde(default)]
    pub gateways: Vec<Endpoint>,
    /// The network plugin (`SUBMARINER_NETWORKPLUGIN`; default `generic`):
    /// decides the datapath ([`crate::Cni::datapath`]).
    #[serde(default, skip_serializing_if = "crate::Cni::is_generic")]
    pub cni: crate::Cni,
    /// The cable routeagent builds itself on the active gateway; `None`:
    /// the cable is external (Submariner's gateway engine), routeagent
    /// creates no cable objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cable: Option<CableKind>,
    /// The cluster's Globalnet CIDR (`SUBMARINER_GLOBALCIDR`); set when
    /// Globalnet runs beside the agent.
    #[serde(
        rename = "globalCIDR",
        default,
        deserialize_with = "de::opt_cidr",
        skip_serializing_if = "Option::is_none"
    )]
    pub global_cidr: Option<IpNet>,
}

/// A cable routeagent can build itself (`cluster.cable`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CableKind {
    /// `vxlan-tunnel` laid out as Submariner's VXLAN cable driver does.
    Vxlan,
}

impl CableKind {
    /// The name in the topology file and in Submariner's Endpoint
    /// `backend` field (`vxlan`).
    pub fn as_str(self) -> &'static str {
        match self {
            CableKind::Vxlan => "vxlan",
        }
    }
}

/// A node of the local cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Node {
    /// Node name (`NODE_NAME`).
    pub name: String,
    /// The node's InternalIP (the underlay of vx-submariner).
    #[serde(deserialize_with = "de::ip")]
    pub ip: IpAddr,
    /// What OVN-Kubernetes says about the node (OVN datapath only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ovn: Option<crate::OvnNode>,
}

/// A gateway endpoint (Submariner's `Endpoint` object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Endpoint {
    /// The gateway node's name.
    pub hostname: String,
    /// The gateway's private (node) IP.
    #[serde(rename = "privateIP", deserialize_with = "de::ip")]
    pub private_ip: IpAddr,
    /// The gateway's public IP, used for the inter-cluster cable when set.
    #[serde(
        rename = "publicIP",
        default,
        deserialize_with = "de::opt_ip",
        skip_serializing_if = "Option::is_none"
    )]
    pub public_ip: Option<IpAddr>,
    /// The address health checks ping.
    #[serde(
        rename = "healthCheckIP",
        default,
        deserialize_with = "de::opt_ip",
        skip_serializing_if = "Option::is_none"
    )]
    pub health_check_ip: Option<IpAddr>,
    /// The cable driver of the gateway (Endpoint `backend`: `libreswan`,
    /// `wireguard`, `vxlan`); informational unless `cluster.cable` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// The driver's parameters (Endpoint `backend_config`); the keys read
    /// are [`BACKEND_INTERFACE_NAME`] and [`BACKEND_UDP_PORT`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub backend_config: BTreeMap<String, String>,
}

/// `backendConfig` key: the cable's network interface (WireGuard's
/// `submariner`); table 150 routes go out of it.
pub const BACKEND_INTERFACE_NAME: &str = "interface-name";
/// `backendConfig` key: the cable's UDP port.
pub const BACKEND_UDP_PORT: &str = "udp-port";

impl Endpoint {
    /// The cable's interface, `backendConfig["interface-name"]`, if given.
    pub fn interface_name(&self) -> Option<&str> {
        self.backend_config
            .get(BACKEND_INTERFACE_NAME)
            .map(String::as_str)
    }

    /// The cable's UDP port, `backendConfig["udp-port"]`, if given and
    /// valid (validation refuses invalid ones in topology files).
    pub fn udp_port(&self) -> Option<u16> {
        self.backend_config
            .get(BACKEND_UDP_PORT)
            .and_then(|p| p.trim().parse().ok())
    }

    /// The underlay address of the inter-cluster cable: the public IP if
    /// set, else the private IP.
    pub fn cable_ip(&self) -> IpAddr {
        self.public_ip.unwrap_or(self.private_ip)
    }
}

/// A remote cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RemoteCluster {
    /// Cluster id.
    pub id: String,
    /// Its pod and service networks.
    #[serde(deserialize_with = "de::cidrs")]
    pub subnets: Vec<IpNet>,
    /// Its active gateway.
    pub gateway: Endpoint,
}

/// Tunables; [`Default`] gives Submariner's values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Tunables {
    /// VNI of vx-submariner (default 100).
    #[serde(rename = "vxlanVNI")]
    pub vxlan_vni: u32,
    /// UDP port of vx-submariner (default 4800).
    pub vxlan_port: u16,
    /// VNI of the inter-cluster cable `vxlan-tunnel` (default 1000).
    #[serde(rename = "cableVNI")]
    pub cable_vni: u32,
    /// UDP port of the cable (default 4500).
    pub cable_port: u16,
    /// vx-submariner MTU; default: uplink MTU - 50.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// Fixed MSS clamp value; default: clamp to the route MTU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mss: Option<u16>,
    /// Seconds between full resyncs (drift repair), default 30.
    pub resync_period_seconds: u64,
    /// CNI interface name; default: discovered (the interface holding an
    /// address inside the cluster CIDRs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cni_interface: Option<String>,
}

impl Default for Tunables {
    fn default() -> Self {
        Tunables {
            vxlan_vni: 100,
            vxlan_port: 4800,
            cable_vni: 1000,
            cable_port: 4500,
            mtu: None,
            mss: None,
            resync_period_seconds: 30,
            cni_interface: None,
        }
    }
}

impl Topology {
    /// Parses and validates a topology from YAML text.
    pub fn from_yaml(text: &str) -> Result<Topology> {
        let t: Topology = serde_yaml::from_str(text).map_err(TopologyError::from_yaml)?;
        t.validate()?;
        Ok(t)
    }

    /// Reads, parses and validates the topology file at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Topology> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| TopologyError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Topology::from_yaml(&text).map_err(|e| e.in_file(path))
    }

    /// Checks every rule of the format (see `docs/TOPOLOGY.md`); the first
    /// violation, in file order.
    pub fn validate(&self) -> Result<()> {
        crate::validate::validate(self)
    }

    /// The topology as YAML ([`Topology::from_yaml`] reads it back equal).
    pub fn to_yaml(&self) -> Result<String> {
        serde_yaml::to_string(self).map_err(TopologyError::Serialize)
    }

    /// The active gateway: the first local gateway endpoint.
    pub fn active_gateway(&self) -> Option<&Endpoint> {
        self.cluster.gateways.first()
    }

    /// The local cluster's CIDRs: cluster CIDRs, then service CIDRs.
    pub fn local_cidrs(&self) -> Vec<IpNet> {
        self.cluster
            .cluster_cidrs
            .iter()
            .chain(&self.cluster.service_cidrs)
            .copied()
            .collect()
    }

    /// All remote subnets, of every remote cluster.
    pub fn remote_cidrs(&self) -> Vec<IpNet> {
        self.remote_clusters
            .iter()
            .flat_map(|r| r.subnets.iter().copied())
            .collect()
    }

    /// The node called `name`, or [`TopologyError::UnknownNode`].
    pub fn node(&self, name: &str) -> Result<&Node> {
        self.cluster
            .nodes
            .iter()
            .find(|n| n.name == name)
            .ok_or_else(|| TopologyError::UnknownNode {
                node: name.to_string(),
                known: self.cluster.nodes.iter().map(|n| n.name.clone()).collect(),
            })
    }

    /// The local cluster's id.
    pub fn local_cluster_id(&self) -> &str {
        &self.cluster.id
    }

    /// Whether `node` is the active gateway.
    pub fn is_gateway(&self, node: &str) -> bool {
        self.active_gateway().is_some_and(|g| g.hostname == node)
    }

    /// Whether Globalnet runs beside the agent (`cluster.globalCIDR` set).
    pub fn globalnet(&self) -> bool {
        self.cluster.global_cidr.is_some()
    }
}
