//! `ip -j route show table all` (IPv4 and IPv6), its proto-166 subset, and
//! dumps filtered by table, protocol and type.

use super::{RouteState, PROTO};
use crate::error::Result;
use crate::netlink::dump;
use netlink_packet_route::route::{
    RouteAttribute, RouteFlags, RouteMessage, RouteProtocol, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::Handle;

/// Which routes a dump asks for: `ip -4|-6 route show [table T] [proto P]
/// [type K]`. `None` fields do not filter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RouteFilter {
    /// IPv6 routes instead of IPv4 ones.
    pub v6: bool,
    /// Only this table (`table T`).
    pub table: Option<u32>,
    /// Only this protocol (`proto P`).
    pub protocol: Option<u8>,
    /// Only this route type (`type unicast` is 1).
    pub kind: Option<u8>,
}

impl RouteFilter {
    /// IPv4 unicast routes of the main table (`ip -4 route show table main
    /// type unicast`): what host facts are learnt from.
    pub const MAIN_V4_UNICAST: RouteFilter = RouteFilter {
        v6: false,
        table: Some(plan::routes::MAIN_TABLE),
        protocol: None,
        kind: Some(1),
    };

    /// Whether `r` passes this filter.
    pub fn matches(&self, r: &RouteState) -> bool {
        r.dst.addr().is_ipv6() == self.v6
            && self.table.is_none_or(|t| r.table == t)
            && self.protocol.is_none_or(|p| r.protocol == p)
            && self.kind.is_none_or(|k| r.kind == k)
    }
}

/// Every IPv4 and IPv6 route in every table (`ip -4 route show table all`
/// plus `ip -6 route show table all`).
pub async fn list_routes(handle: &Handle) -> Result<Vec<RouteState>> {
    let mut out = Vec::new();
    for v6 in [false, true] {
        out.extend(
            dump_routes(
                handle,
                &RouteFilter {
                    v6,
                    ..Default::default()
                },
            )
            .await?,
        );
    }
    Ok(out)
}

/// The routes passing `f` (`ip route show table T proto P type K`):
/// filtered by the kernel on a connection with strict checking (every
/// [`crate::Host`]'s), otherwise (a kernel older than 4.20, or another
/// connection) filtered here from the whole dump of `f`'s family.
pub async fn list_routes_where(handle: &Handle, f: &RouteFilter) -> Result<Vec<RouteState>> {
    let mut routes = dump_routes(handle, f).await?;
    routes.retain(|r| f.matches(r));
    Ok(routes)
}

/// What the kernel answers an `RTM_GETROUTE` dump carrying `f` (`rtm_family`,
/// `rtm_protocol`, `rtm_type` and `RTA_TABLE`): only the matching routes on
/// a connection with strict checking, every route of `f`'s family on one
/// without (the kernel then ignores the filters). Cached route exceptions
/// (`RTM_F_CLONED`, which only a non-strict dump includes) are left out.
/// [`list_routes_where`] is the one to use; this shows what the kernel did.
pub async fn dump_routes(handle: &Handle, f: &RouteFilter) -> Result<Vec<RouteState>> {
    let mut req = RouteMessage::default();
    req.header.address_family = if f.v6 {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    if let Some(p) = f.protocol {
        req.header.protocol = RouteProtocol::from(p);
    }
    if let Some(k) = f.kind {
        req.header.kind = RouteType::from(k);
    }
    if let Some(t) = f.table {
        req.attributes.push(RouteAttribute::Table(t));
    }
    let msgs = match dump(handle, RouteNetlinkMessage::GetRoute(req)).await {
        Ok(m) => m,
        // A strict IPv4 dump of a table that does not exist.
        Err(e) if f.table.is_some() && e.errno() == Some(libc::ENOENT) => Vec::new(),
        Err(e) => return Err(e.on("routes", "dump")),
    };
    Ok(msgs
        .iter()
        .filter_map(|m| match m {
            RouteNetlinkMessage::NewRoute(r) if !r.header.flags.contains(RouteFlags::Cloned) => {
                RouteState::from_message(r)
            }
            _ => None,
        })
        .collect())
}

/// The agent's routes: every route with protocol 166, in any table
/// (`ip route show table all proto 166`, IPv4 and IPv6).
pub async fn list_owned_routes(handle: &Handle) -> Result<Vec<RouteState>> {
    let mut out = Vec::new();
    for v6 in [false, true] {
        let f = RouteFilter {
            v6,
            protocol: Some(PROTO),
            ..Default::default()
        };
        out.extend(list_routes_where(handle, &f).await?);
    }
    Ok(out)
}
