//! Check 7: `routeagent uninstall` on every node leaves the host exactly as
//! it was before the agent started (snapshots compared, after the lab's
//! gateway engines cleaned up their cables as Submariner's uninstall
//! does), and the CNI-like tables stayed byte-identical throughout.

use crate::snapshot::{diff, take};
use crate::{Lab, LabError, Result};

/// Stops every agent, uninstalls, compares.
pub fn run(lab: &mut Lab) -> Result<String> {
    lab.uninstall_all()?;
    lab.check_foreign("uninstall");
    crate::engine::cleanup(lab)?;
    lab.record_foreign()?;
    let mut diffs = Vec::new();
    let mut items = 0;
    let nodes: Vec<(String, String)> = lab
        .plan
        .nodes()
        .map(|(_, n)| (n.name.clone(), n.ns.clone()))
        .collect();
    for (name, ns) in &nodes {
        let after = take(ns)?;
        let Some(before) = lab.before.get(name) else {
            return Err(LabError::Config(format!(
                "no snapshot of {name} before the agents"
            )));
        };
        items += before.values().map(|s| s.len()).sum::<usize>();
        diffs.extend(
            diff(before, &after)
                .into_iter()
                .map(|d| format!("{name}: {d}")),
        );
    }
    lab.check_cni_tables("after uninstall");
    if !diffs.is_empty() || !lab.cni_changes.is_empty() {
        let mut all = diffs.clone();
        all.extend(lab.cni_changes.iter().cloned());
        return Err(LabError::Config(format!(
            "{} differences from the pre-agent snapshots:\n{}",
            all.len(),
            all.join("\n")
        )));
    }
    Ok(format!(
        "{} nodes identical to their pre-agent snapshots ({items} items: links, addresses, routes, rules, FDB, nftables, sysctls); CNI-like tables unchanged throughout",
        nodes.len()
    ))
}
