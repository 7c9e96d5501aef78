//! `ip -d link show`: every link, or only the agent's.

use super::{LinkState, LinkTable};
use crate::error::Result;
use crate::netlink::dump;
use netlink_packet_route::link::LinkMessage;
use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::Handle;

/// Every link of the namespace (`ip -d link show`).
pub async fn list_links(handle: &Handle) -> Result<LinkTable> {
    let msgs = dump(handle, RouteNetlinkMessage::GetLink(LinkMessage::default()))
        .await
        .map_err(|e| e.on("links", "dump"))?;
    let links = msgs
        .iter()
        .filter_map(|m| match m {
            RouteNetlinkMessage::NewLink(l) => LinkState::from_message(l),
            _ => None,
        })
        .collect();
    Ok(LinkTable::new(links))
}

/// The links the agent owns that exist now ([`LinkState::is_owned`]).
pub async fn list_owned_links(handle: &Handle) -> Result<Vec<LinkState>> {
    Ok(list_links(handle)
        .await?
        .by_name
        .into_values()
        .filter(LinkState::is_owned)
        .collect())
}
