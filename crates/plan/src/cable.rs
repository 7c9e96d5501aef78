//! The cable routeagent builds itself (`cluster.cable`) between this
//! cluster's active gateway and every remote gateway. A [`Cable`] plans its
//! links, addresses and FDB entries and names, per remote cluster, the
//! device and next hop its routing table uses; [`VxlanCable`] is the
//! unencrypted `vxlan-tunnel`, laid out as Submariner's VXLAN cable driver
//! lays it out so the two interoperate. Without `cluster.cable` the cable
//! is external (Submariner's gateway engine) and nothing here is planned.

use crate::host::HostFacts;
use crate::host::{Address, FdbEntry, Link, LinkKind, Vxlan};
use crate::links::tunnel_mtu;
use crate::{tunnel, PlanError};
use std::collections::BTreeMap;
use std::net::IpAddr;
use topology::{Endpoint, Node, RemoteCluster, Tunables};

/// The VXLAN cable's interface.
pub const VXLAN_TUNNEL: &str = "vxlan-tunnel";

/// How traffic to one remote cluster leaves the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CablePeer {
    /// Remote cluster id.
    pub cluster: String,
    /// Output device.
    pub dev: String,
    /// Next hop on `dev`; `None` when it cannot be routed (see warnings).
    pub via: Option<IpAddr>,
}

/// A cable's part of the plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CablePlan {
    /// Links.
    pub links: Vec<Link>,
    /// Addresses on them.
    pub addresses: Vec<Address>,
    /// FDB entries.
    pub fdb: Vec<FdbEntry>,
    /// UDP ports the cable receives on (opened in the input chain).
    pub udp_ports: Vec<u16>,
    /// One entry per remote cluster, sorted by cluster id.
    pub peers: Vec<CablePeer>,
    /// Problems that do not stop the plan.
    pub warnings: Vec<String>,
}

/// What a cable is planned from.
#[derive(Debug, Clone, Copy)]
pub struct CableContext<'a> {
    /// This node (the active gateway).
    pub node: &'a Node,
    /// This gateway's endpoint.
    pub local: &'a Endpoint,
    /// The remote clusters, sorted by id.
    pub remotes: &'a [&'a RemoteCluster],
    /// The host's interfaces.
    pub facts: &'a HostFacts,
    /// Tunables.
    pub tunables: &'a Tunables,
}

/// An inter-cluster cable, planned on the active gateway only.
pub trait Cable {
    /// The interface traffic to remote clusters leaves on.
    fn ifname(&self) -> &'static str;
    /// Plans the cable for this gateway.
    fn plan(&self, ctx: &CableContext<'_>) -> Result<CablePlan, PlanError>;
}

/// `vxlan-tunnel` as Submariner's VXLAN cable driver makes it: VXLAN VNI
/// tunables.cableVNI, UDP port = the local Endpoint's `udp-port`, else
/// tunables.cablePort; no `local` and no `dev` (the kernel routes the
/// underlay); MTU = default-route interface MTU - 50 (else the public
/// interface's, else the uplink's); address 241.b.c.d/8 from the local
/// *private* IP; one FDB entry per remote gateway's cable address (public,
/// else private IP); next hop 241.<remote private IP>.
#[derive(Debug, Clone, Copy, Default)]
pub struct VxlanCable;

impl Cable for VxlanCable {
    fn ifname(&self) -> &'static str {
        VXLAN_TUNNEL
    }

    /// `ip link add vxlan-tunnel mtu M type vxlan id 1000 dstport 4500
    /// nolearning`, `ip addr replace 241.<private b.c.d>/8 dev vxlan-tunnel`,
    /// `bridge fdb append 00:00:00:00:00:00 dev vxlan-tunnel dst
    /// REMOTE_CABLE_IP` per remote gateway.
    fn plan(&self, ctx: &CableContext<'_>) -> Result<CablePlan, PlanError> {
        let t = ctx.tunables;
        let f = ctx.facts;
        let underlay = f
            .default_route
            .as_ref()
            .or(f.public.as_ref())
            .unwrap_or(&f.uplink);
        let mtu = tunnel_mtu(VXLAN_TUNNEL, &underlay.name, underlay.mtu)?;
        let port = ctx.local.udp_port().unwrap_or(t.cable_port);
        let local_ip = ctx.local.private_ip;
        let mut out = CablePlan {
            udp_ports: vec![port],
            ..CablePlan::default()
        };
        out.links.push(Link {
            name: VXLAN_TUNNEL.into(),
            mtu: Some(mtu),
            kind: LinkKind::Vxlan(Vxlan {
                vni: t.cable_vni,
                port,
                local: None,
                remote: None,
                underlay: None,
            }),
        });
        let own = tunnel::addr(tunnel::CABLE_OCTET, local_ip);
        if let Some(a) = own {
            out.addresses.push(Address {
                dev: VXLAN_TUNNEL.into(),
                addr: tunnel::net(a),
            });
        }
        let owners: Vec<(String, IpAddr)> =
            std::iter::once((format!("this gateway {}", ctx.node.name), local_ip))
                .chain(ctx.remotes.iter().map(|r| {
                    (
                        format!("{}'s gateway {}", r.id, r.gateway.hostname),
                        r.gateway.private_ip,
                    )
                }))
                .collect();
        let collide = tunnel::collisions(
            tunnel::CABLE_OCTET,
            owners.iter().map(|(n, ip)| (n.as_str(), *ip)),
        );
        for (a, who) in &collide {
            out.warnings.push(format!(
                "{} share the cable VTEP address {a}: traffic to the clusters behind it can reach the wrong gateway; renumber one of them",
                who.join(" and ")
            ));
        }
        let mut seen: BTreeMap<IpAddr, ()> = BTreeMap::new();
        for r in ctx.remotes {
            let dst = r.gateway.cable_ip();
            if seen.insert(dst, ()).is_none() {
                out.fdb.push(FdbEntry {
                    dev: VXLAN_TUNNEL.into(),
                    dst,
                });
            }
            let via = tunnel::addr(tunnel::CABLE_OCTET, r.gateway.private_ip);
            let via = match via {
                Some(v) if Some(v) == own => {
                    out.warnings.push(format!(
                        "cluster {}: its gateway's cable VTEP address {v} is also this gateway's, so it cannot be a next hop: not routed; renumber one gateway",
                        r.id
                    ));
                    None
                }
                v => v.map(IpAddr::V4),
            };
            out.peers.push(CablePeer {
                cluster: r.id.clone(),
                dev: VXLAN_TUNNEL.into(),
                via,
            });
        }
        Ok(out)
    }
}
