//! `ip link set NAME [mtu M] up`, `ip link set NAME alias TEXT`.

use crate::error::Result;
use crate::netlink::ack;
use netlink_packet_route::link::LinkAttribute;
use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::{Handle, LinkUnspec};

/// Sets the MTU (when given) and brings the link up. Equals
/// `ip link set NAME mtu M up`.
pub async fn set_mtu_up(handle: &Handle, name: &str, index: u32, mtu: Option<u32>) -> Result<()> {
    let mut b = LinkUnspec::new_with_index(index).up();
    if let Some(m) = mtu {
        b = b.mtu(m);
    }
    ack(handle, RouteNetlinkMessage::NewLink(b.build()), 0)
        .await
        .map_err(|e| e.on(format!("link {name}"), "set mtu/up"))
}

/// Marks the link as the agent's. Equals `ip link set NAME alias routeagent`
/// (`plan::host::ownership::LINK_ALIAS`).
pub async fn set_owner_alias(handle: &Handle, name: &str, index: u32) -> Result<()> {
    let mut msg = LinkUnspec::new_with_index(index).build();
    msg.attributes.push(LinkAttribute::IfAlias(
        plan::host::ownership::LINK_ALIAS.to_string(),
    ));
    ack(handle, RouteNetlinkMessage::NewLink(msg), 0)
        .await
        .map_err(|e| e.on(format!("link {name}"), "set alias"))
}
