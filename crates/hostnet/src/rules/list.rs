//! `ip -j rule show` (IPv4 and IPv6), and the agent's subset.

use super::RuleState;
use crate::error::Result;
use crate::netlink::dump;
use netlink_packet_route::rule::RuleMessage;
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::Handle;

/// Every IPv4 and IPv6 rule (`ip -4 rule show` plus `ip -6 rule show`).
pub async fn list_rules(handle: &Handle) -> Result<Vec<RuleState>> {
    let mut out = Vec::new();
    for family in [AddressFamily::Inet, AddressFamily::Inet6] {
        let mut req = RuleMessage::default();
        req.header.family = family;
        let msgs = dump(handle, RouteNetlinkMessage::GetRule(req))
            .await
            .map_err(|e| e.on("rules", "dump"))?;
        out.extend(msgs.iter().filter_map(|m| match m {
            RouteNetlinkMessage::NewRule(r) => RuleState::from_message(r),
            _ => None,
        }));
    }
    Ok(out)
}

/// The rules the agent owns ([`RuleState::is_owned`]).
pub async fn list_owned_rules(handle: &Handle) -> Result<Vec<RuleState>> {
    Ok(list_rules(handle)
        .await?
        .into_iter()
        .filter(RuleState::is_owned)
        .collect())
}
