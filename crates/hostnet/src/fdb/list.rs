//! `bridge -j fdb show`: every FDB entry of the namespace.

use super::FdbState;
use crate::error::Result;
use crate::netlink::dump;
use netlink_packet_route::neighbour::NeighbourMessage;
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::Handle;

/// Every FDB entry (`bridge fdb show`): bridge ports' and VXLAN links'.
pub async fn list_fdb(handle: &Handle) -> Result<Vec<FdbState>> {
    let mut req = NeighbourMessage::default();
    req.header.family = AddressFamily::Bridge;
    let msgs = dump(handle, RouteNetlinkMessage::GetNeighbour(req))
        .await
        .map_err(|e| e.on("fdb", "dump"))?;
    Ok(msgs
        .iter()
        .filter_map(|m| match m {
            RouteNetlinkMessage::NewNeighbour(n) => FdbState::from_message(n),
            _ => None,
        })
        .collect())
}
