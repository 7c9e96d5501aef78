//! Check: other components' objects on the gateway-capable nodes (see
//! [`crate::foreign`]) stayed byte-identical through every stage: agents
//! running, each check (failover included) and uninstall. The demo
//! compares after every check; this check reports what it saw.

use crate::{Lab, LabError, Result};

/// Compares once more, then fails with every change seen at any stage.
pub fn run(lab: &mut Lab) -> Result<String> {
    lab.check_foreign("foreign-objects");
    let nodes = lab.foreign.len();
    let lines: usize = lab.foreign.values().map(|t| t.lines().count()).sum();
    if !lab.foreign_changes.is_empty() {
        return Err(LabError::Config(format!(
            "{} changes to other components' objects:\n{}",
            lab.foreign_changes.len(),
            lab.foreign_changes.join("\n")
        )));
    }
    Ok(format!(
        "{nodes} gateway-capable nodes: XFRM policies, Globalnet chains and ipsets, {} unchanged \
         by routeagent at every stage ({lines} lines)",
        match lab.config.cable {
            crate::Cable::Vxlan => "(no foreign cable: routeagent makes every cable)",
            crate::Cable::Wireguard => "the WireGuard links, a foreign table 100 and rule pref 100",
            crate::Cable::Mixed =>
                "the Submariner-like VXLAN cable with its table 100 and rule pref 100",
        }
    ))
}
