//! The flood entries that changed between two plans, sent without listing
//! the FDB: a new remote cluster's cable entry costs one request.

use super::{append_fdb, delete_fdb};
use crate::error::{Error, Result};
use crate::links::LinkTable;
use crate::report::Outcome;
use plan::FdbEntry;
use std::collections::BTreeSet;

/// From `previous` (held by the kernel) to `desired`: `bridge fdb append
/// 00:00:00:00:00:00 dev DEV dst X` for each new entry, `bridge fdb del`
/// for each entry no longer planned. One result per entry sent.
pub async fn apply_fdb_delta(
    handle: &rtnetlink::Handle,
    previous: &[FdbEntry],
    desired: &[FdbEntry],
    links: &LinkTable,
) -> Vec<Result<Outcome>> {
    let old: BTreeSet<&FdbEntry> = previous.iter().collect();
    let new: BTreeSet<&FdbEntry> = desired.iter().collect();
    let mut out = Vec::new();
    for (e, add) in new
        .difference(&old)
        .map(|e| (*e, true))
        .chain(old.difference(&new).map(|e| (*e, false)))
    {
        let Some(index) = links.index(&e.dev) else {
            out.push(Err(Error::Invalid {
                object: format!("fdb 00:00:00:00:00:00 dst {} dev {}", e.dst, e.dev),
                reason: format!("device {} does not exist", e.dev),
            }));
            continue;
        };
        out.push(if add {
            append_fdb(handle, &e.dev, index, e.dst)
                .await
                .map(|_| Outcome::Created)
        } else {
            delete_fdb(handle, &e.dev, index, e.dst).await
        });
    }
    out
}
