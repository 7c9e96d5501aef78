//! Routes (`ip route`) with the agent's protocol number 166, in any table.
//! Routes of any other protocol are read (to detect conflicts) but never
//! changed.
//!
//! - [`list`]: `ip -j route show table all` (IPv4 and IPv6) as [`RouteState`]s;
//!   [`RouteFilter`]ed dumps (`ip route show table T proto P type K`).
//! - [`add`]: `ip route add ... proto 166` (never over another route).
//! - [`replace`]: `ip route replace ... proto 166`.
//! - [`del`]: `ip route del ...`.
//! - [`ensure`]: exactly the planned proto-166 routes.
//! - [`delta`]: only what changed between two plans, without a dump.

pub mod add;
pub mod del;
pub mod delta;
pub mod ensure;
pub mod list;
pub mod replace;

use crate::links::LinkTable;
use ipnet::IpNet;
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteFlags, RouteMessage};
use netlink_packet_route::AddressFamily;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub use add::add_route;
pub use del::delete_route;
pub use delta::apply_route_delta;
pub use ensure::ensure_routes;
pub use list::{dump_routes, list_owned_routes, list_routes, list_routes_where, RouteFilter};
pub use replace::replace_route;

/// The agent's protocol number, `plan::host::ROUTE_PROTOCOL` (166).
pub const PROTO: u8 = plan::host::ROUTE_PROTOCOL;

/// One route as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteState {
    /// Routing table id (254 main, 255 local).
    pub table: u32,
    /// Destination prefix (`default` = 0.0.0.0/0 or ::/0).
    pub dst: IpNet,
    /// TOS/DS field.
    pub tos: u8,
    /// Next hop.
    pub via: Option<IpAddr>,
    /// Output ifindex.
    pub oif: Option<u32>,
    /// Preferred source.
    pub src: Option<IpAddr>,
    /// `proto` number.
    pub protocol: u8,
    /// `scope` number.
    pub scope: u8,
    /// Route type (1 unicast, 2 local, 3 broadcast, 6 blackhole...).
    pub kind: u8,
    /// `metric` (RTA_PRIORITY); `None` when absent (IPv4 metric 0).
    pub metric: Option<u32>,
    /// `onlink` flag.
    pub onlink: bool,
}

impl RouteState {
    /// Parses an `RTM_NEWROUTE` message; `None` for families other than
    /// IPv4/IPv6.
    pub fn from_message(m: &RouteMessage) -> Option<RouteState> {
        let v6 = match m.header.address_family {
            AddressFamily::Inet => false,
            AddressFamily::Inet6 => true,
            _ => return None,
        };
        let mut table = u32::from(m.header.table);
        let mut dst = None;
        let mut r = RouteState {
            table: 0,
            dst: IpNet::default(),
            tos: m.header.tos,
            via: None,
            oif: None,
            src: None,
            protocol: u8::from(m.header.protocol),
            scope: u8::from(m.header.scope),
            kind: u8::from(m.header.kind),
            metric: None,
            onlink: m.header.flags.contains(RouteFlags::Onlink),
        };
        for a in &m.attributes {
            match a {
                RouteAttribute::Table(t) => table = *t,
                RouteAttribute::Destination(d) => dst = ip(d),
                RouteAttribute::Gateway(g) => r.via = ip(g),
                RouteAttribute::Oif(i) => r.oif = Some(*i),
                RouteAttribute::PrefSource(s) => r.src = ip(s),
                RouteAttribute::Priority(p) => r.metric = Some(*p),
                _ => {}
            }
        }
        let any = if v6 {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        };
        r.table = table;
        r.dst = IpNet::new(dst.unwrap_or(any), m.header.destination_prefix_length).ok()?;
        Some(r)
    }

    /// The metric the kernel gives a route added without one: 0 for IPv4,
    /// 1024 for IPv6.
    pub fn default_metric(&self) -> u32 {
        default_metric(&self.dst)
    }

    /// As a plan route (the device named through `links`).
    pub fn to_plan(&self, links: &LinkTable) -> plan::Route {
        plan::Route {
            dst: self.dst,
            via: self.via,
            dev: self
                .oif
                .and_then(|i| links.name(i))
                .unwrap_or("?")
                .to_string(),
            src: self.src,
            table: self.table,
            onlink: self.onlink,
        }
    }

    /// The kernel's key: two routes with the same key replace each other.
    pub fn key(&self) -> (u32, IpNet) {
        (self.table, self.dst)
    }
}

/// 0 for IPv4 prefixes, 1024 for IPv6 (`IP6_RT_PRIO_USER`).
pub(crate) fn default_metric(dst: &IpNet) -> u32 {
    match dst {
        IpNet::V4(_) => 0,
        IpNet::V6(_) => 1024,
    }
}

fn ip(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v) => Some(IpAddr::V4(*v)),
        RouteAddress::Inet6(v) => Some(IpAddr::V6(*v)),
        _ => None,
    }
}

/// How a route is named in errors: `route DST [via V] table T`.
/// `r` as the kernel keys and reports it: the destination's host bits
/// cleared, table 0 meaning main (254).
pub(crate) fn normalized(r: &plan::Route) -> plan::Route {
    plan::Route {
        dst: r.dst.trunc(),
        table: if r.table == 0 { 254 } else { r.table },
        ..r.clone()
    }
}

/// The ifindex of `r.dev`, or an error naming the route.
pub(crate) fn oif(links: &LinkTable, r: &plan::Route) -> crate::error::Result<u32> {
    links
        .index(&r.dev)
        .ok_or_else(|| crate::error::Error::Invalid {
            object: describe(r),
            reason: format!("device {} does not exist", r.dev),
        })
}

pub(crate) fn describe(r: &plan::Route) -> String {
    match r.via {
        Some(v) => format!("route {} via {} table {}", r.dst, v, r.table),
        None => format!("route {} dev {} table {}", r.dst, r.dev, r.table),
    }
}
