//! Exactly the planned rules among the rules the agent owns; every other
//! rule is left alone.

use super::{add_rule, delete_rule, list_rules, RuleState};
use crate::error::Result;
use crate::report::Outcome;
use rtnetlink::Handle;

/// `ip rule del` every owned rule that is not planned (duplicates and rules
/// left by older versions included), then `ip rule add pref P lookup T
/// proto 166` for every planned rule missing. Returns one result per object
/// handled; `Err` only when the rules cannot be listed.
///
/// The kernel matches a delete without `proto` against any protocol, so a
/// rule left by an older version (proto 0) that shares priority and table
/// with one of ours is deleted together with ours, and ours is added again.
pub async fn ensure_rules(
    handle: &Handle,
    desired: &[plan::RoutingRule],
) -> Result<Vec<Result<Outcome>>> {
    let owned: Vec<RuleState> = list_rules(handle)
        .await?
        .into_iter()
        .filter(RuleState::is_owned)
        .collect();
    let mut want = desired.to_vec();
    want.sort();
    want.dedup();
    let mut kept = vec![false; owned.len()];
    let mut present = vec![false; want.len()];
    for (w, r) in want.iter().enumerate() {
        if let Some(i) = (0..owned.len()).find(|&i| !kept[i] && owned[i].is(r)) {
            let shadowed = owned.iter().enumerate().any(|(j, o)| {
                j != i
                    && o.protocol == 0
                    && o.version == r.version
                    && o.pref == Some(r.pref)
                    && o.table == r.table
            });
            if !shadowed {
                kept[i] = true;
                present[w] = true;
            }
        }
    }
    let mut stale: Vec<&RuleState> = owned
        .iter()
        .zip(&kept)
        .filter(|(_, k)| !**k)
        .map(|(o, _)| o)
        .collect();
    // Precise deletes (with proto) first, wildcard ones (proto 0) after.
    stale.sort_by_key(|o| o.protocol == 0);
    let mut out = Vec::new();
    for o in stale {
        out.push(delete_rule(handle, o).await);
    }
    for (r, p) in want.iter().zip(&present) {
        if *p {
            out.push(Ok(Outcome::Unchanged));
        } else {
            out.push(add_rule(handle, r).await.map(|_| Outcome::Created));
        }
    }
    Ok(out)
}
