//! `ip route add ... proto 166`: create a route only where the table has
//! no route to that destination yet (NLM_F_EXCL), so a route of another
//! protocol is never taken over.

use super::replace::new_route;
use crate::error::Result;
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use rtnetlink::Handle;

/// `ip route add DST [via V] dev DEV [src S] table T proto 166 [onlink]`;
/// `EEXIST` when the table already routes DST.
pub async fn add_route(handle: &Handle, r: &plan::Route, oif: u32) -> Result<()> {
    new_route(handle, r, oif, NLM_F_CREATE | NLM_F_EXCL, "add").await
}
