//! `ip route del DST table T proto P ...`.

use super::RouteState;
use crate::error::Result;
use crate::netlink::ack;
use crate::report::Outcome;
use netlink_packet_route::route::{
    RouteAttribute, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::Handle;

/// Deletes exactly the route `r` (matched on table, destination, TOS,
/// metric, protocol, device and next hop); a route that is already gone is
/// success. Equals `ip route del DST [via V] dev D table T proto P metric M`.
pub async fn delete_route(handle: &Handle, r: &RouteState) -> Result<Outcome> {
    match ack(handle, RouteNetlinkMessage::DelRoute(message(r)), 0).await {
        Ok(()) => Ok(Outcome::Deleted),
        Err(e) if e.is_gone() => Ok(Outcome::Unchanged),
        Err(e) => Err(e.on(
            format!("route {} table {} proto {}", r.dst, r.table, r.protocol),
            "delete",
        )),
    }
}

fn message(r: &RouteState) -> RouteMessage {
    let mut m = RouteMessage::default();
    m.header.address_family = if r.dst.addr().is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    m.header.destination_prefix_length = r.dst.prefix_len();
    m.header.tos = r.tos;
    m.header.table = u8::try_from(r.table).unwrap_or(252);
    m.header.protocol = RouteProtocol::from(r.protocol);
    // RT_SCOPE_NOWHERE: "any scope", what `ip route del` sends.
    m.header.scope = RouteScope::from(255u8);
    m.header.kind = RouteType::from(r.kind);
    m.attributes.push(RouteAttribute::Table(r.table));
    if r.dst.prefix_len() > 0 {
        m.attributes
            .push(RouteAttribute::Destination(r.dst.addr().into()));
    }
    if let Some(p) = r.metric {
        m.attributes.push(RouteAttribute::Priority(p));
    }
    if let Some(i) = r.oif {
        m.attributes.push(RouteAttribute::Oif(i));
    }
    if let Some(v) = r.via {
        m.attributes.push(RouteAttribute::Gateway(v.into()));
    }
    m
}
