//! Exactly the planned addresses on every owned link; addresses on links the
//! agent does not own are never touched.

use super::{delete_address, list_addresses, replace_address};
use crate::error::{Error, Result};
use crate::links::{is_owned_name, LinkState, LinkTable};
use crate::report::Outcome;
use plan::Address;
use rtnetlink::Handle;

/// For each owned link that exists: `ip addr del` every address on it that
/// is not planned, then `ip addr replace` every planned address it lacks
/// (IPv6 link-local addresses are the kernel's and stay). Returns one result per
/// object handled; `Err` only when the addresses cannot be listed.
pub async fn ensure_addresses(
    handle: &Handle,
    desired: &[Address],
    links: &LinkTable,
) -> Result<Vec<Result<Outcome>>> {
    let current = list_addresses(handle).await?;
    let mut out = Vec::new();
    for a in desired.iter().filter(|a| !is_owned_name(&a.dev)) {
        out.push(Err(Error::Invalid {
            object: format!("address {} dev {}", a.addr, a.dev),
            reason: "the device is not one the agent owns; hostnet only programs addresses on its own links".into(),
        }));
    }
    for link in links.by_name.values().filter(|l| LinkState::is_owned(l)) {
        let want: Vec<_> = desired
            .iter()
            .filter(|a| a.dev == link.name)
            .map(|a| a.addr)
            .collect();
        let have: Vec<_> = current
            .iter()
            .filter(|a| a.index == link.index && !a.is_ipv6_link_local())
            .map(|a| a.addr)
            .collect();
        // Stale ones first: deleting a primary IPv4 address also deletes
        // the secondaries of its subnet (promote_secondaries=0), which a
        // new address added before would have become.
        for addr in have.iter().filter(|a| !want.contains(a)) {
            out.push(delete_address(handle, &link.name, link.index, *addr).await);
        }
        for addr in want.iter().filter(|a| !have.contains(a)) {
            out.push(
                replace_address(handle, &link.name, link.index, *addr)
                    .await
                    .map(|_| Outcome::Created),
            );
        }
    }
    for a in desired
        .iter()
        .filter(|a| is_owned_name(&a.dev) && links.get(&a.dev).is_none())
    {
        out.push(Err(Error::Invalid {
            object: format!("address {} dev {}", a.addr, a.dev),
            reason: "the link does not exist (see the link's own error)".into(),
        }));
    }
    Ok(out)
}
