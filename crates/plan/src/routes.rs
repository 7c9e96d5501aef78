//! Routes to the remote clusters.
//!
//! - Non-gateway node: main table, `R via 240.<gateway> dev vx-submariner
//!   onlink src <CNI IP>`: pod and host traffic to remote clusters goes to
//!   the active gateway over vx-submariner.
//! - Gateway: table 150, `R via 241.<remote gateway> dev vxlan-tunnel onlink
//!   src <CNI IP>`, and `ip rule pref 150 lookup 150`, so that traffic to a
//!   remote cluster, whether it arrives on vx-submariner from another node
//!   or comes from the gateway's own pods or host, leaves on the cable.
//!
//! Remote IPv6 subnets are not routed: the tunnels are IPv4.

use crate::cable::CablePeer;
use crate::host::{Route, RoutingRule};
use crate::input::Ctx;
use crate::links::VX_SUBMARINER;
use ipnet::IpNet;
use ruleset::IpVersion;
use std::net::{IpAddr, Ipv4Addr};

/// The main routing table.
pub const MAIN_TABLE: u32 = 254;
/// The gateway's routing table for remote clusters.
pub const GATEWAY_TABLE: u32 = 150;
/// Priority of the rule that looks up [`GATEWAY_TABLE`].
pub const GATEWAY_RULE_PREF: u32 = 150;

/// Remote IPv4 subnets of `cidrs`; a warning for each IPv6 one.
fn routable(cidrs: &[IpNet], cluster: &str, warnings: &mut Vec<String>) -> Vec<IpNet> {
    cidrs
        .iter()
        .filter(|c| match c {
            IpNet::V4(_) => true,
            IpNet::V6(_) => {
                warnings.push(format!(
                    "cluster {cluster}: subnet {c} is IPv6 and is not routed (the tunnels carry IPv4 only)"
                ));
                false
            }
        })
        .copied()
        .collect()
}

/// `ip route replace R via 240.G dev vx-submariner onlink [src CNI_IP] proto 166`
/// for every remote subnet.
pub(crate) fn non_gateway(
    ctx: &Ctx<'_>,
    gateway_addr: Option<Ipv4Addr>,
    warnings: &mut Vec<String>,
) -> Vec<Route> {
    if ctx.remotes.is_empty() {
        return vec![];
    }
    let Some(gw) = gateway_addr else {
        if ctx.gateway.is_none() {
            warnings.push(
                "cluster.gateways is empty: no active gateway, so remote clusters are unreachable from this node; add the gateway endpoint".into(),
            );
        }
        return vec![];
    };
    let mut out = Vec::new();
    for r in &ctx.remotes {
        for dst in routable(&r.subnets, &r.id, warnings) {
            out.push(Route {
                dst: dst.trunc(),
                via: Some(IpAddr::V4(gw)),
                dev: VX_SUBMARINER.into(),
                src: ctx.cni_ip.map(IpAddr::V4),
                table: MAIN_TABLE,
                onlink: true,
            });
        }
    }
    out
}

/// `ip route replace R via 241.X dev vxlan-tunnel onlink [src CNI_IP] table 150
/// proto 166` per remote subnet, and `ip -4 rule add pref 150 lookup 150 proto
/// 166` when there is any.
pub(crate) fn gateway(
    ctx: &Ctx<'_>,
    peers: &[CablePeer],
    warnings: &mut Vec<String>,
) -> (Vec<Route>, Vec<RoutingRule>) {
    let mut out = Vec::new();
    for r in &ctx.remotes {
        let dsts = routable(&r.subnets, &r.id, warnings);
        // `peers` is sorted by cluster id (see `CablePlan::peers`).
        let Ok(i) = peers.binary_search_by(|p| p.cluster.as_str().cmp(&r.id)) else {
            continue;
        };
        let peer = &peers[i];
        let Some(via) = peer.via else { continue };
        for dst in dsts {
            out.push(Route {
                dst: dst.trunc(),
                via: Some(via),
                dev: peer.dev.clone(),
                src: ctx.cni_ip.map(IpAddr::V4),
                table: GATEWAY_TABLE,
                onlink: true,
            });
        }
    }
    let rules = if out.is_empty() {
        vec![]
    } else {
        vec![RoutingRule {
            pref: GATEWAY_RULE_PREF,
            table: GATEWAY_TABLE,
            version: IpVersion::V4,
            from: None,
            to: None,
        }]
    };
    (out, rules)
}
