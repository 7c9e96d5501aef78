//! `bridge fdb del 00:00:00:00:00:00 dev DEV dst X`.

use super::message;
use crate::error::Result;
use crate::netlink::ack;
use crate::report::Outcome;
use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::Handle;
use std::net::IpAddr;

/// Deletes the flood entry towards `dst` on device `index` (named `dev`); an
/// entry that is already gone is success. Equals
/// `bridge fdb del 00:00:00:00:00:00 dev DEV dst DST`.
pub async fn delete_fdb(handle: &Handle, dev: &str, index: u32, dst: IpAddr) -> Result<Outcome> {
    match ack(
        handle,
        RouteNetlinkMessage::DelNeighbour(message(index, dst)),
        0,
    )
    .await
    {
        Ok(()) => Ok(Outcome::Deleted),
        Err(e) if e.is_gone() => Ok(Outcome::Unchanged),
        Err(e) => Err(e.on(
            format!("fdb 00:00:00:00:00:00 dst {dst} dev {dev}"),
            "delete",
        )),
    }
}
