//! `ip rule add pref P [from F] [to T] lookup T proto 166`.

use super::{describe, family};
use crate::error::Result;
use crate::netlink::ack;
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::route::RouteProtocol;
use netlink_packet_route::rule::{RuleAction, RuleAttribute, RuleMessage};
use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::Handle;

/// Adds the rule `r` with protocol 166 (`FRA_PROTOCOL`) and its selectors.
/// Equals `ip [-6] rule add pref P [from F] [to T] lookup T proto 166`.
pub async fn add_rule(handle: &Handle, r: &plan::RoutingRule) -> Result<()> {
    let mut m = RuleMessage::default();
    m.header.family = family(r.version);
    m.header.action = RuleAction::ToTable;
    m.header.table = u8::try_from(r.table).unwrap_or(252);
    m.attributes.push(RuleAttribute::Table(r.table));
    m.attributes.push(RuleAttribute::Priority(r.pref));
    super::push_selectors(&mut m, r.from, r.to);
    m.attributes
        .push(RuleAttribute::Protocol(RouteProtocol::from(
            plan::host::ROUTE_PROTOCOL,
        )));
    ack(
        handle,
        RouteNetlinkMessage::NewRule(m),
        NLM_F_CREATE | NLM_F_EXCL,
    )
    .await
    .map_err(|e| e.on(describe(r.version, Some(r.pref), r.table), "add"))
}
