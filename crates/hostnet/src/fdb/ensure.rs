//! Exactly the planned flood entries on every owned VXLAN link.

use super::{append_fdb, delete_fdb, list_fdb};
use crate::error::{Error, Result};
use crate::links::{is_owned_name, LinkTable};
use crate::report::Outcome;
use futures::StreamExt;
use plan::{FdbEntry, Link, LinkKind};
use rtnetlink::Handle;
use std::net::IpAddr;

/// For each owned VXLAN link that exists: `bridge fdb append` every planned
/// `00:00:00:00:00:00 dst X` entry missing on it and `bridge fdb del` every
/// other all-zero-MAC entry on it. A link with `remote R` keeps (or gets
/// back) the default entry the kernel made for R. Entries with a real MAC and entries
/// on other links are never touched. Returns one result per object handled;
/// `Err` only when the FDB cannot be listed.
pub async fn ensure_fdb(
    handle: &Handle,
    desired: &[FdbEntry],
    plan_links: &[Link],
    links: &LinkTable,
) -> Result<Vec<Result<Outcome>>> {
    let current = list_fdb(handle).await?;
    let mut out = Vec::new();
    for e in desired.iter().filter(|e| !is_owned_name(&e.dev)) {
        out.push(Err(Error::Invalid {
            object: format!("fdb 00:00:00:00:00:00 dst {} dev {}", e.dst, e.dev),
            reason: "the device is not one the agent owns; hostnet only programs FDB entries on its own links".into(),
        }));
    }
    for link in links
        .by_name
        .values()
        .filter(|l| l.is_owned() && l.vxlan.is_some())
    {
        let mut want: Vec<IpAddr> = desired
            .iter()
            .filter(|e| e.dev == link.name)
            .map(|e| e.dst)
            .collect();
        let remote = plan_links
            .iter()
            .find(|l| l.name == link.name)
            .and_then(|l| {
                let LinkKind::Vxlan(v) = &l.kind;
                v.remote
            });
        let mut have: Vec<IpAddr> = current
            .iter()
            .filter(|e| e.index == link.index && e.is_default_dst())
            .filter_map(|e| e.dst)
            .collect();
        want.extend(remote);
        want.sort();
        want.dedup();
        have.sort();
        // Pipelined: many requests in flight on the one netlink socket.
        let mut appends = Vec::new();
        for dst in want.iter().filter(|d| have.binary_search(d).is_err()) {
            appends.push(async move {
                append_fdb(handle, &link.name, link.index, *dst)
                    .await
                    .map(|_| Outcome::Created)
            });
        }
        let done: Vec<Result<Outcome>> = futures::stream::iter(appends)
            .buffer_unordered(256)
            .collect()
            .await;
        out.extend(done);
        let mut deletes = Vec::new();
        for dst in have.iter().filter(|d| want.binary_search(d).is_err()) {
            deletes.push(delete_fdb(handle, &link.name, link.index, *dst));
        }
        let done: Vec<Result<Outcome>> = futures::stream::iter(deletes)
            .buffer_unordered(256)
            .collect()
            .await;
        out.extend(done);
    }
    Ok(out)
}
