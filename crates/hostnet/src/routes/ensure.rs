//! Exactly the planned proto-166 routes, in every table; routes of other
//! protocols are never changed.

use super::{default_metric, delete_route, describe, list_routes, replace_route, PROTO};
use crate::error::{Error, Result};
use crate::links::LinkTable;
use crate::report::Outcome;
use ipnet::IpNet;
use rtnetlink::Handle;

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
    let mut out = Vec::new();
    let want: Vec<plan::Route> = desired
        .iter()
        .map(|r| plan::Route {
            dst: r.dst.trunc(),
            table: if r.table == 0 { 254 } else { r.table },
            ..r.clone()
        })
        .collect();
    for r in &want {
        let key = (r.table, r.dst);
        let ours: Vec<_> = current
            .iter()
            .filter(|c| c.protocol == PROTO && c.key() == key && c.tos == 0)
            .collect();
        if ours
            .iter()
            .any(|c| c.metric.unwrap_or(0) == c.default_metric() && c.to_plan(links) == *r)
        {
            out.push(Ok(Outcome::Unchanged));
            continue;
        }
        if let Some(f) = current.iter().find(|c| {
            c.protocol != PROTO && c.key() == key && c.tos == 0 && c.metric.unwrap_or(0) == default_metric(&r.dst)
        }) {
            out.push(Err(Error::Invalid {
                object: describe(r),
                reason: format!(
                    "table {} already has a route to {} with proto {}, which is not the agent's; remove it (`ip route del {} table {}`) or change the plan",
                    f.table, f.dst, f.protocol, f.dst, f.table
                ),
            }));
            continue;
        }
        let Some(oif) = links.index(&r.dev) else {
            out.push(Err(Error::Invalid {
                object: describe(r),
                reason: format!("device {} does not exist", r.dev),
            }));
            continue;
        };
        let outcome = if ours.is_empty() { Outcome::Created } else { Outcome::Updated };
        out.push(replace_route(handle, r, oif).await.map(|_| outcome));
    }
    let planned = |t: u32, d: IpNet| want.iter().any(|r| r.table == t && r.dst == d);
    for c in current.iter().filter(|c| c.protocol == PROTO) {
        let keep = planned(c.table, c.dst) && c.tos == 0 && c.metric.unwrap_or(0) == c.default_metric();
        if !keep {
            out.push(delete_route(handle, c).await);
        }
    }
    Ok(out)
}
