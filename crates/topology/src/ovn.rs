//! [`OvnNode`]: what OVN-Kubernetes says about a node (`cluster.nodes[i].ovn`
//! in the file; the Node's `k8s.ovn.org/*` annotations in Kubernetes), read
//! only on the OVN datapath: the node's interconnect zone and transit
//! switch address (OVN interconnect, where every zone has its own
//! northbound database) and its gateway mode.

use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

/// OVN-Kubernetes' facts about one node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OvnNode {
    /// The node's zone (`k8s.ovn.org/zone-name`); with interconnect each
    /// zone has its own northbound database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// The node's address on the interconnect transit switch
    /// (`k8s.ovn.org/node-transit-switch-port-ifaddr` `{"ipv4": ...}`); set
    /// only under interconnect. Other zones reroute remote-bound traffic to
    /// the gateway's.
    #[serde(
        rename = "transitSwitchIP",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub transit_switch_ip: Option<Ipv4Addr>,
    /// The node's gateway mode (`k8s.ovn.org/l3-gateway-config`
    /// `default.mode`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_mode: Option<GatewayMode>,
}

/// OVN-Kubernetes' gateway mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GatewayMode {
    /// Shared gateway: egress leaves through `br-ex` from OVN; pod sources
    /// reach the route agent's cable unchanged.
    Shared,
    /// Local gateway: egress goes through the host's stack, where
    /// OVN-Kubernetes masquerades every pod-subnet source
    /// (`ovn-kube-local-gw-masq`); the gateway's egress self-SNAT keeps
    /// remote-bound sources.
    Local,
}

impl GatewayMode {
    /// Its name in the annotation and in `/status` (`shared`, `local`).
    pub fn as_str(self) -> &'static str {
        match self {
            GatewayMode::Shared => "shared",
            GatewayMode::Local => "local",
        }
    }
}
