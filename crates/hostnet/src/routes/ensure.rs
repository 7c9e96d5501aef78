//! Exactly the planned proto-166 routes, in every table; routes of other
//! protocols are never changed.

use super::{
    default_metric, delete_route, describe, list_routes, normalized, oif, replace_route,
    RouteState, PROTO,
};
use crate::error::{Error, Result};
use crate::links::LinkTable;
use crate::report::Outcome;
use futures::StreamExt;
use ipnet::IpNet;
use rtnetlink::Handle;
use std::collections::HashMap;

/// Route requests in flight at once.
const IN_FLIGHT: usize = 256;

/// `ip route replace ... proto 166` every planned route that is missing or
/// differs, then `ip route del` every proto-166 route (any table, IPv4 and
/// IPv6) that is not planned. A planned route whose table and destination
/// are held by a route of another protocol is reported and left alone:
/// replacing it would take over someone else's route. Returns one result
/// per object handled; `Err` only when the routes cannot be listed.
pub async fn ensure_routes(
    handle: &Handle,
    desired: &[plan::Route],
    links: &LinkTable,
) -> Result<Vec<Result<Outcome>>> {
    let current = list_routes(handle).await?;
    // Routes by kernel key (table, destination), TOS 0 only: the others
    // never collide with ours.
    let mut by_key: HashMap<(u32, IpNet), Vec<&RouteState>> = HashMap::new();
    for c in current.iter().filter(|c| c.tos == 0) {
        by_key.entry(c.key()).or_default().push(c);
    }
    let mut out = Vec::new();
    let mut want: Vec<plan::Route> = Vec::new();
    let mut planned: HashMap<(u32, IpNet), usize> = HashMap::new();
    for r in desired {
        let r = normalized(r);
        // Two planned routes with one kernel key would replace each other
        // on every converge: keep the first, report the second.
        match planned.get(&(r.table, r.dst)).map(|&i| &want[i]) {
            Some(w) if *w == r => {}
            Some(w) => out.push(Err(Error::Invalid {
                object: describe(&r),
                reason: format!(
                    "the plan also has {}; one route per table and destination",
                    describe(w)
                ),
            })),
            None => {
                planned.insert((r.table, r.dst), want.len());
                want.push(r);
            }
        }
    }
    // Changes are collected, then sent pipelined (many requests in flight on
    // the one netlink socket): thousands of routes converge in tens of ms.
    let mut jobs: Vec<(&plan::Route, u32, Outcome)> = Vec::new();
    for r in &want {
        let same_key = by_key
            .get(&(r.table, r.dst))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let ours: Vec<_> = same_key.iter().filter(|c| c.protocol == PROTO).collect();
        if ours
            .iter()
            .any(|c| c.metric.unwrap_or(0) == c.default_metric() && c.to_plan(links) == *r)
        {
            out.push(Ok(Outcome::Unchanged));
            continue;
        }
        if let Some(f) = same_key
            .iter()
            .find(|c| c.protocol != PROTO && c.metric.unwrap_or(0) == default_metric(&r.dst))
        {
            out.push(Err(Error::Invalid {
                object: describe(r),
                reason: format!(
                    "table {} already has a route to {} with proto {}, which is not the agent's; remove it (`ip route del {} table {}`) or change the plan",
                    f.table, f.dst, f.protocol, f.dst, f.table
                ),
            }));
            continue;
        }
        let oif = match oif(links, r) {
            Ok(i) => i,
            Err(e) => {
                out.push(Err(e));
                continue;
            }
        };
        let outcome = if ours.is_empty() {
            Outcome::Created
        } else {
            Outcome::Updated
        };
        jobs.push((r, oif, outcome));
    }
    let mut replacing = Vec::with_capacity(jobs.len());
    for (r, oif, outcome) in jobs {
        replacing.push(async move { replace_route(handle, r, oif).await.map(|_| outcome) });
    }
    let replaced: Vec<Result<Outcome>> = futures::stream::iter(replacing)
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    out.extend(replaced);
    let mut deleting = Vec::new();
    for c in &current {
        let keep = planned.contains_key(&c.key())
            && c.tos == 0
            && c.metric.unwrap_or(0) == c.default_metric();
        if c.protocol == PROTO && !keep {
            deleting.push(delete_route(handle, c));
        }
    }
    let deleted: Vec<Result<Outcome>> = futures::stream::iter(deleting)
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    out.extend(deleted);
    Ok(out)
}
