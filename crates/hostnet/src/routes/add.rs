//! `ip route add ... proto 166`: create a route only where the table has
//! no route to that destination yet (NLM_F_EXCL), so a route of another
//! protocol is never taken over.

use super::describe;
use super::replace::message;
use crate::error::{Error, Result};
use crate::netlink::ack;
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::Handle;

/// `ip route add DST [via V] dev DEV [src S] table T proto 166 [onlink]`;
/// `EEXIST` when the table already routes DST.
pub async fn add_route(handle: &Handle, r: &plan::Route, oif: u32) -> Result<()> {
    let msg = message(r, oif).map_err(|reason| Error::Invalid {
        object: describe(r),
        reason,
    })?;
    ack(
        handle,
        RouteNetlinkMessage::NewRoute(msg),
        NLM_F_CREATE | NLM_F_EXCL,
    )
    .await
    .map_err(|e| e.on(describe(r), "add"))
}
