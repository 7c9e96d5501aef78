//! `ip addr del ADDR dev DEV`.

use super::replace::message;
use crate::error::Result;
use crate::netlink::ack;
use crate::report::Outcome;
use ipnet::IpNet;
use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::Handle;

/// Deletes `addr` from the device `index` (named `dev`); an address that is
/// already gone is success. Equals `ip addr del ADDR dev DEV`.
pub async fn delete_address(
    handle: &Handle,
    dev: &str,
    index: u32,
    addr: IpNet,
) -> Result<Outcome> {
    match ack(
        handle,
        RouteNetlinkMessage::DelAddress(message(index, addr)),
        0,
    )
    .await
    {
        Ok(()) => Ok(Outcome::Deleted),
        Err(e) if e.is_gone() => Ok(Outcome::Unchanged),
        Err(e) => Err(e.on(format!("address {addr} dev {dev}"), "delete")),
    }
}
