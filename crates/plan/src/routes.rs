//! Routes to the remote clusters.
//!
//! - Non-gateway node: main table, `R via 240.<gateway> dev vx-submariner
//!   onlink src <CNI IP>`: pod and host traffic to remote clusters goes to
//!   the active gateway over vx-submariner.
//! - Gateway, whatever the cable (as Submariner's route agent): table 150,
//!   `R dev <cable device> src <CNI IP> scope link` (or `via` the next hop
//!   towards the remote gateway when it lies inside R), and `ip rule pref
//!   150 lookup 150`, so that traffic to a remote cluster, whether it
//!   arrives on vx-submariner from another node or comes from the gateway's
//!   own pods or host, reaches the cable's device with the CNI source.
//! - Gateway with the own VXLAN cable (as Submariner's VXLAN cable driver):
//!   table 100, `R via 241.<remote private IP> dev vxlan-tunnel src <CNI
//!   IP>`, and `ip rule pref 100 lookup 100`, which wins over table 150.
//!
//! Remote IPv6 subnets are not routed: the tunnels are IPv4.

use crate::cable::CablePeer;
use crate::host::{Route, RoutingRule};
use crate::input::Ctx;
use crate::links::VX_SUBMARINER;
use ipnet::IpNet;
use ruleset::IpVersion;
use std::net::{IpAddr, Ipv4Addr};
use topology::RemoteCluster;

/// The main routing table.
pub const MAIN_TABLE: u32 = 254;
/// The gateway's routing table for remote clusters.
pub const GATEWAY_TABLE: u32 = 150;
/// Priority of the rule that looks up [`GATEWAY_TABLE`].
pub const GATEWAY_RULE_PREF: u32 = 150;
/// The own cable's routing table (Submariner's VXLAN cable driver's).
pub const CABLE_TABLE: u32 = 100;
/// Priority of the rule that looks up [`CABLE_TABLE`].
pub const CABLE_RULE_PREF: u32 = 100;

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

/// The remote gateway IP (cable IP, else private IP) that lies inside one
/// of `r`'s own subnets, if any: such a subnet is routed `via` the next hop
/// towards it (Submariner issue #1106), or the gateway's own packets would
/// be routed into the cable.
pub fn gateway_inside(r: &RemoteCluster) -> Option<IpAddr> {
    let g = &r.gateway;
    [g.cable_ip(), g.private_ip]
        .into_iter()
        .find(|ip| r.subnets.iter().any(|n| n.contains(ip)))
}

/// Table 150 on the active gateway, what Submariner's route agent programs
/// whatever the cable: per remote subnet `ip route replace R dev CABLE_DEV
/// scope link [src CNI_IP] table 150 proto 166`, or `ip route replace R via
/// NEXT_HOP dev CABLE_DEV [src CNI_IP] table 150 proto 166` when the remote
/// gateway lies inside R; and `ip -4 rule add pref 150 lookup 150 proto 166`
/// when there is any route.
pub(crate) fn table_150(
    ctx: &Ctx<'_>,
    cable_dev: &str,
    warnings: &mut Vec<String>,
) -> (Vec<Route>, Vec<RoutingRule>) {
    let mut out = Vec::new();
    for r in &ctx.remotes {
        let inside = gateway_inside(r);
        for dst in routable(&r.subnets, &r.id, warnings) {
            let via = match inside.filter(|g| dst.contains(g)) {
                None => None,
                Some(g) => match ctx.facts.next_hops.get(&g) {
                    Some(nh) => Some(*nh),
                    None => {
                        warnings.push(format!(
                            "cluster {}: its gateway {g} lies inside subnet {dst} and no route to {g} is known: {dst} is not routed in table {GATEWAY_TABLE}; add a route to {g}",
                            r.id
                        ));
                        continue;
                    }
                },
            };
            out.push(Route {
                dst: dst.trunc(),
                via,
                dev: cable_dev.into(),
                src: ctx.cni_ip.map(IpAddr::V4),
                table: GATEWAY_TABLE,
                onlink: false,
            });
        }
    }
    let rules = rule_if_any(&out, GATEWAY_RULE_PREF, GATEWAY_TABLE);
    (out, rules)
}

/// The own cable's table ([`CABLE_TABLE`]): per remote subnet `ip route
/// replace R via PEER dev CABLE [src CNI_IP] table 100 proto 166`, and `ip -4
/// rule add pref 100 lookup 100 proto 166` when there is any, as
/// Submariner's VXLAN cable driver lays them out.
pub(crate) fn cable_table(
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
                table: CABLE_TABLE,
                onlink: false,
            });
        }
    }
    let rules = rule_if_any(&out, CABLE_RULE_PREF, CABLE_TABLE);
    (out, rules)
}

fn rule_if_any(routes: &[Route], pref: u32, table: u32) -> Vec<RoutingRule> {
    if routes.is_empty() {
        return vec![];
    }
    vec![RoutingRule {
        pref,
        table,
        version: IpVersion::V4,
        from: None,
        to: None,
    }]
}
