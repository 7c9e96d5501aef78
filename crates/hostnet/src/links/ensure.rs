//! Ensure one planned VXLAN link: create it, fix its MTU/up state, or
//! delete and re-create it when a parameter the kernel cannot change in
//! place differs (VNI, port, local, remote, underlay, learning).

use super::{
    add_vxlan, list_links, remove_link, set_mtu_up, set_owner_alias, LinkTable, VxlanState,
};
use crate::error::{Error, Result};
use crate::report::Outcome;
use plan::{Link, LinkKind};
use rtnetlink::Handle;

/// Brings the link named `link.name` to the plan. Equals, depending on what
/// exists: `ip link add NAME type vxlan id VNI dstport PORT local L [remote R]
/// dev D nolearning mtu M` + `ip link set NAME up`; or only
/// `ip link set NAME mtu M up`; or `ip link del NAME` and then the add.
/// `links` is the current link table (`ip -d link show`).
pub async fn ensure_vxlan(handle: &Handle, link: &Link, links: &LinkTable) -> Result<Outcome> {
    let object = format!("link {}", link.name);
    let LinkKind::Vxlan(v) = &link.kind;
    let underlay = match &v.underlay {
        Some(dev) => Some(links.index(dev).ok_or_else(|| Error::Invalid {
            object: object.clone(),
            reason: format!(
                "underlay device {dev} does not exist; check the uplink discovered for this node"
            ),
        })?),
        None => None,
    };
    let want = VxlanState {
        vni: v.vni,
        port: v.port,
        local: v.local,
        remote: v.remote,
        underlay,
        learning: false,
    };
    let Some(cur) = links.get(&link.name) else {
        add_vxlan(handle, link, underlay).await?;
        finish_create(handle, link).await?;
        return Ok(Outcome::Created);
    };
    if !cur.is_owned() {
        return Err(Error::Invalid {
            object,
            reason: format!(
                "exists but is not the agent's (no alias {:?}): another component (Submariner's VXLAN cable driver?) owns it and it is left as it is; remove cluster.cable to use that cable, or delete the link",
                plan::host::ownership::LINK_ALIAS
            ),
        });
    }
    if cur.kind.as_deref() == Some("vxlan") && cur.vxlan.as_ref() == Some(&want) {
        let mtu_ok = link.mtu.is_none_or(|m| m == cur.mtu);
        if mtu_ok && cur.up {
            return Ok(Outcome::Unchanged);
        }
        set_mtu_up(handle, &link.name, cur.index, link.mtu).await?;
        return Ok(Outcome::Updated);
    }
    tracing::info!(link = %link.name, "VXLAN parameters differ from the plan: re-creating the link");
    remove_link(handle, &link.name).await?;
    add_vxlan(handle, link, underlay).await?;
    finish_create(handle, link).await?;
    Ok(Outcome::Updated)
}

/// The kernel silently clamps the MTU of a new VXLAN link to what its
/// underlay allows (underlay MTU - 50 for IPv4, - 70 for IPv6), while
/// `ip link set mtu` later refuses it: report the clamp at creation.
/// Also marks the new link as the agent's (its alias).
async fn finish_create(handle: &Handle, link: &Link) -> Result<()> {
    let now = list_links(handle).await?;
    if let Some(l) = now.get(&link.name) {
        set_owner_alias(handle, &link.name, l.index).await?;
    }
    let Some(want) = link.mtu else { return Ok(()) };
    match now.get(&link.name) {
        Some(l) if l.mtu != want => Err(Error::Invalid {
            object: format!("link {}", link.name),
            reason: format!(
                "created, but the kernel clamped MTU {want} to {}: the underlay allows no more; lower the planned MTU",
                l.mtu
            ),
        }),
        _ => Ok(()),
    }
}
