//! `bridge fdb append 00:00:00:00:00:00 dev DEV dst X`.

use super::message;
use crate::error::Result;
use crate::netlink::ack;
use netlink_packet_core::{NLM_F_APPEND, NLM_F_CREATE};
use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::Handle;
use std::net::IpAddr;

/// Adds a flood entry towards `dst` on the VXLAN device `index` (named
/// `dev`), next to the entries already there. Equals
/// `bridge fdb append 00:00:00:00:00:00 dev DEV dst DST`.
pub async fn append_fdb(handle: &Handle, dev: &str, index: u32, dst: IpAddr) -> Result<()> {
    ack(
        handle,
        RouteNetlinkMessage::NewNeighbour(message(index, dst)),
        NLM_F_CREATE | NLM_F_APPEND,
    )
    .await
    .map_err(|e| {
        e.on(
            format!("fdb 00:00:00:00:00:00 dst {dst} dev {dev}"),
            "append",
        )
    })
}
