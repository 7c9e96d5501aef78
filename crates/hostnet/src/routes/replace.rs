//! `ip route replace DST [via VIA] dev DEV [src SRC] table T proto 166 [onlink]`.

use super::{describe, PROTO};
use crate::error::{Error, Result};
use crate::netlink::ack;
use netlink_packet_core::{NLM_F_CREATE, NLM_F_REPLACE};
use netlink_packet_route::route::{
    RouteAttribute, RouteFlags, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::Handle;

/// Installs `r` with protocol 166, replacing a route with the same table,
/// destination and metric. `oif` is the ifindex of `r.dev`. Scope is `link`
/// without a next hop and `global` with one, as `ip route` picks it. Equals
/// `ip route replace DST [via VIA] dev DEV [src SRC] table T proto 166 [onlink]`.
pub async fn replace_route(handle: &Handle, r: &plan::Route, oif: u32) -> Result<()> {
    new_route(handle, r, oif, NLM_F_CREATE | NLM_F_REPLACE, "replace").await
}

/// Sends RTM_NEWROUTE for `r` with `flags`; errors name the route and `verb`.
pub(super) async fn new_route(
    handle: &Handle,
    r: &plan::Route,
    oif: u32,
    flags: u16,
    verb: &'static str,
) -> Result<()> {
    let msg = message(r, oif).map_err(|reason| Error::Invalid {
        object: describe(r),
        reason,
    })?;
    ack(handle, RouteNetlinkMessage::NewRoute(msg), flags)
        .await
        .map_err(|e| e.on(describe(r), verb))
}

fn message(r: &plan::Route, oif: u32) -> Result<RouteMessage, String> {
    let v4 = r.dst.addr().is_ipv4();
    for (what, a) in [("via", r.via), ("src", r.src)] {
        if let Some(a) = a {
            if a.is_ipv4() != v4 {
                return Err(format!("{what} {a} is not of the destination's IP version"));
            }
        }
    }
    let mut m = RouteMessage::default();
    m.header.address_family = if v4 {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    m.header.destination_prefix_length = r.dst.prefix_len();
    m.header.table = u8::try_from(r.table).unwrap_or(252); // RT_TABLE_COMPAT
    if r.table == 0 {
        m.header.table = RouteHeader::RT_TABLE_MAIN;
    }
    m.header.protocol = RouteProtocol::from(PROTO);
    m.header.scope = if r.via.is_some() {
        RouteScope::Universe
    } else {
        RouteScope::Link
    };
    m.header.kind = RouteType::Unicast;
    if r.onlink {
        m.header.flags |= RouteFlags::Onlink;
    }
    let table = if r.table == 0 {
        u32::from(RouteHeader::RT_TABLE_MAIN)
    } else {
        r.table
    };
    m.attributes.push(RouteAttribute::Table(table));
    if r.dst.prefix_len() > 0 {
        m.attributes
            .push(RouteAttribute::Destination(r.dst.network().into()));
    }
    if let Some(v) = r.via {
        m.attributes.push(RouteAttribute::Gateway(v.into()));
    }
    m.attributes.push(RouteAttribute::Oif(oif));
    if let Some(s) = r.src {
        m.attributes.push(RouteAttribute::PrefSource(s.into()));
    }
    Ok(m)
}
