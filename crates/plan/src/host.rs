//! Host objects of a plan: pure data, programmed by the `hostnet` crate.
//! Each type's doc names the `ip` command that creates it.

use ipnet::IpNet;
use ruleset::{IpVersion, RuleSet};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The routing protocol number the agent stamps on its routes and rules
/// (`ip route ... proto 166`), so it recognises its own objects and never
/// touches anyone else's.
pub const ROUTE_PROTOCOL: u8 = 166;

/// The whole desired state of one node.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HostPlan {
    /// Links the agent creates.
    pub links: Vec<Link>,
    /// Addresses on those links.
    pub addresses: Vec<Address>,
    /// FDB entries on those links.
    pub fdb: Vec<FdbEntry>,
    /// Routes (main table and the agent's tables).
    pub routes: Vec<Route>,
    /// Policy-routing rules.
    pub rules: Vec<RoutingRule>,
    /// Sysctls.
    pub sysctls: Vec<Sysctl>,
    /// The packet-filter ruleset.
    pub ruleset: RuleSet,
    /// Problems found while planning that did not stop the plan (address
    /// collisions, overlapping CIDRs skipped), one sentence each.
    pub warnings: Vec<String>,
}

/// A link: `ip link add <name> [mtu M] type ...`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Interface name.
    pub name: String,
    /// MTU; `None` leaves the kernel's default.
    pub mtu: Option<u32>,
    /// Kind and its parameters.
    pub kind: LinkKind,
}

/// Link kinds the agent creates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// VXLAN.
    Vxlan(Vxlan),
}

/// `ip link add NAME type vxlan id VNI dstport PORT [local L] [remote R] [dev D] nolearning`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vxlan {
    /// VXLAN network identifier.
    pub vni: u32,
    /// UDP destination port.
    pub port: u16,
    /// Local underlay address.
    pub local: Option<IpAddr>,
    /// Unicast remote (non-gateway nodes: the gateway); `None` means FDB
    /// entries decide (gateway).
    pub remote: Option<IpAddr>,
    /// Underlay device.
    pub underlay: Option<String>,
}

/// `ip addr replace ADDR dev DEV`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Address {
    /// The device.
    pub dev: String,
    /// Address with prefix length.
    pub addr: IpNet,
}

/// `bridge fdb append 00:00:00:00:00:00 dev DEV dst DST`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FdbEntry {
    /// The VXLAN device.
    pub dev: String,
    /// Remote VTEP underlay address.
    pub dst: IpAddr,
}

/// `ip route replace DST [via VIA] dev DEV [src SRC] table T proto 166 [scope link]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Route {
    /// Destination prefix.
    pub dst: IpNet,
    /// Next hop; `None` for a link-scope route.
    pub via: Option<IpAddr>,
    /// Output device.
    pub dev: String,
    /// Preferred source address.
    pub src: Option<IpAddr>,
    /// Routing table (254 = main).
    pub table: u32,
    /// `onlink`: the next hop is reachable on `dev` without a covering route.
    pub onlink: bool,
}

/// `ip rule add pref PREF [from FROM] [to TO] lookup TABLE proto 166`
/// (IPv4 or IPv6).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RoutingRule {
    /// Priority.
    pub pref: u32,
    /// Table looked up.
    pub table: u32,
    /// `ip -4 rule` or `ip -6 rule`.
    pub version: IpVersion,
    /// `from PREFIX` selector (the OVN datapath's inbound rules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<IpNet>,
    /// `to PREFIX` selector (the OVN datapath's per-remote rules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<IpNet>,
}

/// `sysctl -w KEY=VALUE` (the key in dotted form, as `sysctl` takes it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Sysctl {
    /// `net.ipv4.conf.eth0.rp_filter`.
    pub key: String,
    /// `2`.
    pub value: String,
}

impl Sysctl {
    /// The /proc/sys path (dots become slashes; interface names keep theirs).
    pub fn path(&self) -> std::path::PathBuf {
        // net.ipv4.conf.<iface>.<name>: the iface may contain dots.
        let parts: Vec<&str> = self.key.split('.').collect();
        let rel = if parts.len() > 4 && parts[..3] == ["net", "ipv4", "conf"]
            || parts.len() > 4 && parts[..3] == ["net", "ipv6", "conf"]
        {
            let iface = parts[3..parts.len() - 1].join(".");
            format!(
                "{}/{}/{}/{}/{}",
                parts[0],
                parts[1],
                parts[2],
                iface,
                parts[parts.len() - 1]
            )
        } else {
            parts.join("/")
        };
        std::path::Path::new("/proc/sys").join(rel)
    }
}

/// What the agent owns on the host, whichever version created it. Routes
/// and rules are the agent's by their protocol ([`ROUTE_PROTOCOL`]) only,
/// never by table or priority: tables 100 and 150 and priorities 100 and
/// 150 are shared with Submariner's gateway engine and route agent.
pub mod ownership {
    /// Link names the agent creates (and removes on uninstall).
    /// `vxlan-tunnel` is also the name of Submariner's VXLAN cable: the
    /// agent's carries the alias [`LINK_ALIAS`] and only that one is its own.
    pub const LINKS: &[&str] = &["vx-submariner", "vxlan-tunnel"];
    /// `ip link set NAME alias routeagent`: set on every link the agent
    /// creates, required of a `vxlan-tunnel` before the agent changes or
    /// deletes it.
    pub const LINK_ALIAS: &str = "routeagent";
    /// Links whose name alone does not make them the agent's (see
    /// [`LINK_ALIAS`]).
    pub const ALIASED_LINKS: &[&str] = &["vxlan-tunnel"];
    /// nftables table names the agent uses or ever used.
    pub const NFT_TABLES: &[&str] = &["routeagent"];
}

/// What the agent learns about the node before planning (discovered by
/// `hostnet::facts`, or given by tests). The planner is pure: every host
/// detail it needs is here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostFacts {
    /// The interface holding the node's IP (`ip -o addr show to NODE_IP`).
    pub uplink: Iface,
    /// The CNI-facing interface: the one holding an address inside the
    /// local cluster CIDRs (`cni0`, `pod0`, `vxlan.calico`...), if any.
    pub cni: Option<Iface>,
    /// On a gateway: the interface holding the endpoint's public IP, when
    /// that IP is local and on another interface than the uplink.
    pub public: Option<Iface>,
    /// The interface of the IPv4 default route (`ip -4 route show
    /// default`) with its first IPv4 address; `None` without one. The
    /// external cable's device when the Endpoint names none, and the MTU a
    /// fixed MSS derives from (as Submariner's route agent does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_route: Option<Iface>,
    /// Remote gateway IP -> the next hop of the main-table route to it
    /// (`ip route get IP`'s `via`), asked for the remote gateways that lie
    /// inside their own cluster's subnets ([`crate::FactsQuery::next_hop_for`],
    /// Submariner issue #1106).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub next_hops: BTreeMap<IpAddr, IpAddr>,
}

/// An interface, its MTU and the address that made it interesting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Iface {
    /// Name.
    pub name: String,
    /// MTU.
    pub mtu: u32,
    /// The address (node IP, CNI IP or public IP).
    pub addr: IpAddr,
}
