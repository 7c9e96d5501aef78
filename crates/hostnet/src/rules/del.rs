//! `ip rule del pref P [from F] [to T] lookup T [proto N]`.

use super::{describe, family, RuleState};
use crate::error::Result;
use crate::netlink::ack;
use crate::report::Outcome;
use netlink_packet_route::route::RouteProtocol;
use netlink_packet_route::rule::{RuleAction, RuleAttribute, RuleMessage};
use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::Handle;

/// Deletes the rule `r` (matched on priority, table, action, protocol and
/// its `from`/`to` selectors); a rule that is already gone is success.
/// Equals `ip [-6] rule del pref P [from F] [to T] lookup T [proto N]`.
pub async fn delete_rule(handle: &Handle, r: &RuleState) -> Result<Outcome> {
    let mut m = RuleMessage::default();
    m.header.family = family(r.version);
    m.header.action = RuleAction::from(r.action);
    m.header.table = u8::try_from(r.table).unwrap_or(252);
    m.attributes.push(RuleAttribute::Table(r.table));
    if let Some(p) = r.pref {
        m.attributes.push(RuleAttribute::Priority(p));
    }
    super::push_selectors(&mut m, r.from, r.to);
    if r.protocol != 0 {
        m.attributes
            .push(RuleAttribute::Protocol(RouteProtocol::from(r.protocol)));
    }
    match ack(handle, RouteNetlinkMessage::DelRule(m), 0).await {
        Ok(()) => Ok(Outcome::Deleted),
        Err(e) if e.is_gone() => Ok(Outcome::Unchanged),
        Err(e) => Err(e.on(describe(r.version, r.pref, r.table), "delete")),
    }
}
