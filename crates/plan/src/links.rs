//! `vx-submariner`: the intra-cluster VXLAN between every node and the
//! active gateway, its 240.b.c.d/8 address, and (on the gateway) one FDB
//! entry per other node.

use crate::host::{Address, FdbEntry, Link, LinkKind, Vxlan};
use crate::input::Ctx;
use crate::{tunnel, PlanError};
use std::net::Ipv4Addr;

/// The intra-cluster VXLAN interface.
pub const VX_SUBMARINER: &str = "vx-submariner";
/// VXLAN encapsulation overhead subtracted from the underlay MTU.
pub const VXLAN_OVERHEAD: u32 = 50;
/// Smallest tunnel MTU planned.
pub const MIN_MTU: u32 = 576;

/// vx-submariner's part of the plan.
pub(crate) struct VxPlan {
    pub link: Link,
    pub address: Address,
    pub fdb: Vec<FdbEntry>,
    /// The active gateway's vx-submariner address, the next hop of
    /// non-gateway routes; `None` without a usable gateway.
    pub gateway_addr: Option<Ipv4Addr>,
}

/// The tunnel MTU over `underlay` (MTU `underlay_mtu`), or the error.
pub(crate) fn tunnel_mtu(link: &str, underlay: &str, underlay_mtu: u32) -> Result<u32, PlanError> {
    let mtu = underlay_mtu.saturating_sub(VXLAN_OVERHEAD);
    if mtu < MIN_MTU {
        return Err(PlanError::Mtu {
            link: link.into(),
            mtu,
            underlay: underlay.into(),
            underlay_mtu,
        });
    }
    Ok(mtu)
}

/// `ip link add vx-submariner mtu M type vxlan id VNI dstport PORT local NODE_IP
/// [remote GATEWAY_IP] dev UPLINK nolearning`, `ip addr replace 240.b.c.d/8 dev
/// vx-submariner`, and on the gateway `bridge fdb append 00:00:00:00:00:00 dev
/// vx-submariner dst NODE_IP` for every other node.
pub(crate) fn vx_submariner(
    ctx: &Ctx<'_>,
    warnings: &mut Vec<String>,
) -> Result<VxPlan, PlanError> {
    let t = ctx.tunables();
    let uplink = &ctx.facts.uplink;
    let mtu = match t.mtu {
        Some(m) => m,
        None => tunnel_mtu(VX_SUBMARINER, &uplink.name, uplink.mtu)?,
    };
    let own = tunnel::addr(tunnel::VX_OCTET, ctx.node.ip);
    for (a, owners) in tunnel::collisions(
        tunnel::VX_OCTET,
        ctx.nodes.iter().map(|n| (n.name.as_str(), n.ip)),
    ) {
        warnings.push(format!(
            "nodes {} share the vx-submariner address {a}: host-network replies to it can reach the wrong node; renumber one of them",
            owners.join(" and ")
        ));
    }
    // Unreachable: topology validation makes node IPs IPv4.
    let own = own.unwrap_or(Ipv4Addr::UNSPECIFIED);
    let gateway_ip = ctx.gateway.map(|g| g.private_ip);
    let remote = if ctx.is_gateway { None } else { gateway_ip };
    let fdb = if ctx.is_gateway {
        ctx.nodes
            .iter()
            .filter(|n| n.name != ctx.node.name)
            .map(|n| FdbEntry {
                dev: VX_SUBMARINER.into(),
                dst: n.ip,
            })
            .collect()
    } else {
        vec![]
    };
    let gateway_addr = match gateway_ip.and_then(|ip| tunnel::addr(tunnel::VX_OCTET, ip)) {
        Some(g) if !ctx.is_gateway && g == own => {
            warnings.push(format!(
                "this node's vx-submariner address {own} is also the gateway's, so it cannot be a next hop: no routes to remote clusters; renumber this node or the gateway"
            ));
            None
        }
        g => g,
    };
    Ok(VxPlan {
        link: Link {
            name: VX_SUBMARINER.into(),
            mtu: Some(mtu),
            kind: LinkKind::Vxlan(Vxlan {
                vni: t.vxlan_vni,
                port: t.vxlan_port,
                local: Some(ctx.node.ip),
                remote,
                underlay: Some(uplink.name.clone()),
            }),
        },
        address: Address {
            dev: VX_SUBMARINER.into(),
            addr: tunnel::net(own),
        },
        fdb,
        gateway_addr: gateway_addr.filter(|_| !ctx.is_gateway),
    })
}
