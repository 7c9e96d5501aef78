//! The host side of the OVN-Kubernetes datapath ([`plan_ovn`]). With
//! OVN-Kubernetes, pods reach the gateway through OVN itself (the
//! northbound reroute policies of the `ovn` crate), so there is no
//! `vx-submariner`; the host only steers remote-bound and inbound traffic
//! into and out of OVN through its management port `ovn-k8s-mp0`:
//!
//! - every node, per remote subnet R: `ip rule add pref 150 to R lookup 150`;
//!   - non-gateway: table 150 `default via G dev ovn-k8s-mp0`, where G is
//!     the next hop of the main-table route for the cluster CIDR on
//!     `ovn-k8s-mp0` (the `ovn_cluster_router` address): host-network
//!     traffic to remote clusters enters OVN, which reroutes it to the
//!     gateway;
//!   - gateway: table 150 holds the cable routes (`R via 241.X dev
//!     vxlan-tunnel onlink`), as on the kube-proxy path. (Submariner's Go
//!     agent points the gateway's table 150 into OVN too and relies on the
//!     IPsec policy taking over after the route lookup; routeagent's cable
//!     is a plain interface, so the route names it.)
//! - gateway, per remote subnet R and local cluster or service CIDR L:
//!   `ip rule add pref 149 from R to L lookup 149`, table 149 `default via G
//!   dev ovn-k8s-mp0`: traffic arriving on the cable is pushed into OVN.
//! - packet filter: the kube-proxy path's ruleset without the
//!   `vx-submariner` rules. On the gateway `ra-forward` accepts, per
//!   direction, only `iifname ovn-k8s-mp0 oifname CABLE ip daddr @remote`
//!   and `iifname CABLE oifname ovn-k8s-mp0 ip saddr @remote`, clamping
//!   SYNs first (Submariner's `SUBMARINER-FORWARD` and
//!   `SUBMARINER-FWD-MSSCLAMP`); CABLE is routeagent's own cable, else the
//!   table-150 device (the Endpoint's `interface-name`, else the
//!   default-route interface). The clamp is `tunables.mss` if set; on a
//!   cable without an interface of its own (IPsec on the default-route
//!   interface, whose route MTU does not count ESP) the interface's MTU -
//!   102 (upstream's fixed 1398 on a 1500 link); else the route MTU.
//!   `ra-mss-syn` clamps local <-> remote SYNs, and `ra-postrouting` keeps
//!   pod sources (self-SNAT local -> remote in OVN-Kubernetes' local or
//!   unknown gateway mode, protecting egress from its local-gateway
//!   masquerade as upstream's egress self-SNAT does, a plain accept in
//!   shared mode; self-SNAT remote -> local, so OVN-Kubernetes'
//!   `mgmtport-snat` leaves the remote source).
//!
//! Only IPv4 is routed, as on the kube-proxy path.

use crate::host::{HostPlan, Route, RoutingRule};
use crate::input::{Ctx, PlanInput};
use crate::routes::{self, GATEWAY_RULE_PREF, GATEWAY_TABLE};
use crate::PlanError;
use ipnet::IpNet;
use ruleset::IpVersion;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr};

/// OVN-Kubernetes' management port.
pub const MP0: &str = "ovn-k8s-mp0";
/// The gateway's table for traffic arriving from remote clusters.
pub const INBOUND_TABLE: u32 = 149;
/// Priority of the rules that look up [`INBOUND_TABLE`].
pub const INBOUND_RULE_PREF: u32 = 149;

/// What the OVN datapath needs to know about the host (found by
/// `hostnet`: `ip route show dev ovn-k8s-mp0` for the cluster CIDR).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OvnFacts {
    /// The management port's name ([`MP0`]).
    pub mp0: String,
    /// Its IPv4 address (the gateway's is the northbound next hop).
    pub mp0_addr: Option<Ipv4Addr>,
    /// G: the next hop of the cluster-CIDR route on the management port.
    pub router: Option<Ipv4Addr>,
}

/// Plans `input.node` for the OVN-Kubernetes datapath (see the module
/// doc). Without G, no table 149/150 default routes are planned and a
/// warning says why.
pub fn plan_ovn(input: &PlanInput<'_>, ovn: &OvnFacts) -> Result<HostPlan, PlanError> {
    let ctx = Ctx::new(input)?;
    let mut warnings = Vec::new();
    let mut p = HostPlan::default();
    let remote: Vec<IpNet> = v4(&ctx.remote_cidrs);
    let local: Vec<IpNet> = v4(&ctx.local_cidrs);
    if remote.len() < ctx.remote_cidrs.len() {
        warnings
            .push("IPv6 remote subnets are not routed (the OVN datapath is IPv4 only here)".into());
    }
    let into_ovn = |table| {
        ovn.router.map(|g| Route {
            dst: IpNet::V4(Default::default()),
            via: Some(IpAddr::V4(g)),
            dev: ovn.mp0.clone(),
            src: None,
            table,
            onlink: false,
        })
    };
    if ovn.router.is_none() && !remote.is_empty() {
        warnings.push(format!(
            "no route for the cluster CIDR on {} (is OVN-Kubernetes running on this node?): traffic is not steered into OVN",
            ovn.mp0
        ));
    }
    let mut tunnel_ifaces = Vec::new();
    let mut udp_ports = Vec::new();
    let mut forward = None;
    let mut xfrm_mss = None;
    if let Some(local_ep) = ctx.gateway.filter(|_| ctx.is_gateway) {
        crate::own_cable(
            &ctx,
            local_ep,
            &mut p,
            &mut warnings,
            &mut tunnel_ifaces,
            &mut udp_ports,
        )?;
        // Selected by the per-remote `pref 150 to R` rules below, not by
        // the kube-proxy path's `pref 150 lookup 150`.
        let dev = ctx.cable_dev(local_ep, &mut warnings);
        let (r, _) = routes::table_150(&ctx, &dev, &mut warnings);
        p.routes.extend(r);
        // The own cable's interface, else the table-150 device.
        // A cable without an interface of its own (libreswan's XFRM on the
        // default-route interface): its route MTU does not count ESP.
        let dedicated =
            !tunnel_ifaces.is_empty() || local_ep.interface_name().is_some() || ctx.vxlan_cable();
        if !dedicated {
            xfrm_mss = Some(ctx.ipsec_mss(&dev));
        }
        let cable = tunnel_ifaces.last().cloned().unwrap_or(dev);
        forward = Some((ovn.mp0.clone(), cable));
        for r in &remote {
            for l in &local {
                p.rules
                    .push(rule(INBOUND_RULE_PREF, INBOUND_TABLE, Some(*r), Some(*l)));
            }
        }
        if !remote.is_empty() {
            p.routes.extend(into_ovn(INBOUND_TABLE));
        }
    } else if !remote.is_empty() {
        p.routes.extend(into_ovn(GATEWAY_TABLE));
    }
    for r in &remote {
        p.rules
            .push(rule(GATEWAY_RULE_PREF, GATEWAY_TABLE, None, Some(*r)));
    }
    let datapath = crate::filter::Datapath::Ovn { forward, xfrm_mss };
    crate::finish(&ctx, p, &tunnel_ifaces, &udp_ports, &datapath, warnings)
}

fn v4(cidrs: &[IpNet]) -> Vec<IpNet> {
    cidrs
        .iter()
        .filter(|c| c.addr().is_ipv4())
        .map(IpNet::trunc)
        .collect()
}

/// `ip rule add pref P [from F] [to T] lookup TABLE proto 166`.
fn rule(pref: u32, table: u32, from: Option<IpNet>, to: Option<IpNet>) -> RoutingRule {
    RoutingRule {
        pref,
        table,
        version: IpVersion::V4,
        from,
        to,
    }
}
