//! The routes that changed between two plans, sent without reading the
//! kernel's routes back: what a topology change costs when the host is
//! known to hold the previous plan (the monitor and the periodic full
//! converge catch anything else).

use super::{add_route, delete_route, normalized, oif, replace_route, RouteState, PROTO};
use crate::error::Result;
use crate::links::LinkTable;
use crate::report::Outcome;
use futures::StreamExt;
use ipnet::IpNet;
use rtnetlink::Handle;
use std::collections::BTreeMap;

/// Route requests in flight at once.
const IN_FLIGHT: usize = 256;

/// A planned route keyed as the kernel keys it: (table, destination),
/// with 0 meaning the main table and host bits cleared, as [`normalized`].
fn keyed(routes: &[plan::Route]) -> BTreeMap<(u32, IpNet), &plan::Route> {
    routes
        .iter()
        .map(|r| {
            let table = if r.table == 0 { 254 } else { r.table };
            ((table, r.dst.trunc()), r)
        })
        .collect()
}

/// Whether two routes under the same key are the same route: every field
/// but the key's (destructured, so a new field of `plan::Route` must be
/// added here).
fn same(a: &plan::Route, b: &plan::Route) -> bool {
    let plan::Route {
        dst: _,
        table: _,
        via,
        dev,
        src,
        onlink,
    } = a;
    *via == b.via && *dev == b.dev && *src == b.src && *onlink == b.onlink
}

/// From `previous` (held by the kernel) to `desired`: `ip route add` for
/// new destinations (never over another protocol's route: `EEXIST` is an
/// error), `ip route replace` for changed ones, `ip route del ... proto
/// 166` for the ones no longer planned; pipelined. One result per route
/// sent; the caller falls back to a full converge on any error.
pub async fn apply_route_delta(
    handle: &Handle,
    previous: &[plan::Route],
    desired: &[plan::Route],
    links: &LinkTable,
) -> Vec<Result<Outcome>> {
    let (old, new) = (keyed(previous), keyed(desired));
    let mut out = Vec::new();
    let mut sends = Vec::new();
    for (key, r) in &new {
        let was = old.get(key);
        if was.is_some_and(|w| same(w, r)) {
            continue;
        }
        let r = normalized(r);
        let oif = match oif(links, &r) {
            Ok(i) => i,
            Err(e) => {
                out.push(Err(e));
                continue;
            }
        };
        let changed = was.is_some();
        sends.push(async move {
            if changed {
                replace_route(handle, &r, oif)
                    .await
                    .map(|_| Outcome::Updated)
            } else {
                add_route(handle, &r, oif).await.map(|_| Outcome::Created)
            }
        });
    }
    let sent: Vec<Result<Outcome>> = futures::stream::iter(sends)
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    out.extend(sent);
    let gone: Vec<RouteState> = old
        .iter()
        .filter(|(key, _)| !new.contains_key(key))
        .map(|((table, dst), r)| RouteState {
            table: *table,
            dst: *dst,
            tos: 0,
            via: r.via,
            oif: links.index(&r.dev),
            src: None,
            protocol: PROTO,
            scope: 0,
            kind: 1, // RTN_UNICAST
            metric: None,
            onlink: r.onlink,
        })
        .collect();
    let mut deleting = Vec::with_capacity(gone.len());
    for r in &gone {
        deleting.push(delete_route(handle, r));
    }
    let deleted: Vec<Result<Outcome>> = futures::stream::iter(deleting)
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    out.extend(deleted);
    out
}
