//! `ip -j route show table all` (IPv4 and IPv6), and its proto-166 subset.

use super::{RouteState, PROTO};
use crate::error::Result;
use crate::netlink::dump;
use netlink_packet_route::route::RouteMessage;
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::Handle;

/// Every IPv4 and IPv6 route in every table (`ip -4 route show table all`
/// plus `ip -6 route show table all`).
pub async fn list_routes(handle: &Handle) -> Result<Vec<RouteState>> {
    let mut out = Vec::new();
    for family in [AddressFamily::Inet, AddressFamily::Inet6] {
        let mut req = RouteMessage::default();
        req.header.address_family = family;
        let msgs = dump(handle, RouteNetlinkMessage::GetRoute(req))
            .await
            .map_err(|e| e.on("routes", "dump"))?;
        out.extend(msgs.iter().filter_map(|m| match m {
            RouteNetlinkMessage::NewRoute(r) => RouteState::from_message(r),
            _ => None,
        }));
    }
    Ok(out)
}

/// The agent's routes: every route with protocol 166, in any table
/// (`ip route show table all proto 166`, IPv4 and IPv6).
pub async fn list_owned_routes(handle: &Handle) -> Result<Vec<RouteState>> {
    Ok(list_routes(handle)
        .await?
        .into_iter()
        .filter(|r| r.protocol == PROTO)
        .collect())
}
