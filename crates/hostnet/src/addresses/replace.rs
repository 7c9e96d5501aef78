//! `ip addr replace ADDR dev DEV`.

use super::scope_for;
use crate::error::Result;
use crate::netlink::ack;
use ipnet::IpNet;
use netlink_packet_core::{NLM_F_CREATE, NLM_F_REPLACE};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::Handle;
use std::net::IpAddr;

/// Adds `addr` to the device `index` (named `dev`), or updates it if it
/// exists. Equals `ip addr replace ADDR dev DEV` (no broadcast, like `ip`).
pub async fn replace_address(handle: &Handle, dev: &str, index: u32, addr: IpNet) -> Result<()> {
    ack(
        handle,
        RouteNetlinkMessage::NewAddress(message(index, addr)),
        NLM_F_CREATE | NLM_F_REPLACE,
    )
    .await
    .map_err(|e| e.on(format!("address {addr} dev {dev}"), "replace"))
}

/// The `RTM_NEWADDR`/`RTM_DELADDR` message for `addr` on `index`.
pub(crate) fn message(index: u32, addr: IpNet) -> AddressMessage {
    let mut m = AddressMessage::default();
    m.header.family = match addr.addr() {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    };
    m.header.prefix_len = addr.prefix_len();
    m.header.index = index;
    m.header.scope = scope_for(addr.addr());
    m.attributes.push(AddressAttribute::Local(addr.addr()));
    m.attributes.push(AddressAttribute::Address(addr.addr()));
    m
}
