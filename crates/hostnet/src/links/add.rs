//! `ip link add NAME type vxlan id VNI dstport PORT [local L] [remote R]
//! [dev D] nolearning [mtu M] && ip link set NAME up`.

use crate::error::{Error, Result};
use crate::netlink::ack;
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::RouteNetlinkMessage;
use plan::{Link, LinkKind};
use rtnetlink::{Handle, LinkVxlan};
use std::net::IpAddr;

/// Creates the VXLAN link `link`, up, with learning off; `underlay` is the
/// ifindex of `dev D` (resolved by the caller). Equals
/// `ip link add NAME mtu M type vxlan id VNI dstport PORT local L remote R dev D nolearning`
/// followed by `ip link set NAME up`, in one request.
pub async fn add_vxlan(handle: &Handle, link: &Link, underlay: Option<u32>) -> Result<()> {
    let object = format!("link {}", link.name);
    let LinkKind::Vxlan(v) = &link.kind;
    let mut b = LinkVxlan::new(&link.name, v.vni)
        .port(v.port)
        .learning(false);
    match v.local {
        Some(IpAddr::V4(a)) => b = b.local(a),
        Some(IpAddr::V6(a)) => b = b.local6(a),
        None => {}
    }
    match v.remote {
        Some(IpAddr::V4(a)) => b = b.remote(a),
        Some(IpAddr::V6(a)) => b = b.remote6(a),
        None => {}
    }
    if let (Some(IpAddr::V4(_)), Some(IpAddr::V6(_))) | (Some(IpAddr::V6(_)), Some(IpAddr::V4(_))) =
        (v.local, v.remote)
    {
        return Err(Error::Invalid {
            object,
            reason:
                "local and remote are of different IP versions; give both as IPv4 or both as IPv6"
                    .into(),
        });
    }
    if let Some(i) = underlay {
        b = b.dev(i);
    }
    if let Some(m) = link.mtu {
        b = b.mtu(m);
    }
    let msg = b.up().build();
    ack(
        handle,
        RouteNetlinkMessage::NewLink(msg),
        NLM_F_CREATE | NLM_F_EXCL,
    )
    .await
    .map_err(|e| e.on(object, "add"))
}
