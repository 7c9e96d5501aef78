//! `ip -j addr show`: every address of the namespace.

use super::AddrState;
use crate::error::Result;
use crate::netlink::dump;
use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::Handle;

/// Every IPv4 and IPv6 address (`ip addr show`).
pub async fn list_addresses(handle: &Handle) -> Result<Vec<AddrState>> {
    let msgs = dump(
        handle,
        RouteNetlinkMessage::GetAddress(AddressMessage::default()),
    )
    .await
    .map_err(|e| e.on("addresses", "dump"))?;
    Ok(msgs
        .iter()
        .filter_map(|m| match m {
            RouteNetlinkMessage::NewAddress(a) => AddrState::from_message(a),
            _ => None,
        })
        .collect())
}
