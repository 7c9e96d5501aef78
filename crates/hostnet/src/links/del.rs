//! `ip link del NAME`.

use crate::error::Result;
use crate::netlink::ack;
use crate::report::Outcome;
use netlink_packet_route::link::{LinkAttribute, LinkMessage};
use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::Handle;

/// Deletes the link named `name`; a link that is already gone is success
/// ([`Outcome::Unchanged`]). Equals `ip link del NAME`. The kernel removes
/// its addresses, routes and FDB entries with it.
pub async fn remove_link(handle: &Handle, name: &str) -> Result<Outcome> {
    let mut msg = LinkMessage::default();
    msg.attributes.push(LinkAttribute::IfName(name.to_string()));
    match ack(handle, RouteNetlinkMessage::DelLink(msg), 0).await {
        Ok(()) => Ok(Outcome::Deleted),
        Err(e) if e.is_gone() => Ok(Outcome::Unchanged),
        Err(e) => Err(e.on(format!("link {name}"), "delete")),
    }
}
