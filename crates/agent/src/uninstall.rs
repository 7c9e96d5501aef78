//! `routeagent uninstall` (and `run --uninstall`): remove everything the
//! agent owns, whatever version or backend created it.

use crate::error::Error;
use crate::host::HostOps;
use crate::reconcile::owned;
use packetfilter::Backend;

/// What an uninstall did.
#[derive(Debug, Default)]
pub struct Uninstalled {
    /// Host objects removed and sysctls restored.
    pub host_changes: usize,
    /// What could not be removed, each naming its object.
    pub errors: Vec<Error>,
}

/// Removes the agent's tables from every backend in `required` (tables that
/// are not there count as removed; a failure is an error) and from every
/// backend in `best_effort` (variants that may not exist on this host; a
/// failure is only logged), then its host objects, restoring the sysctls it
/// changed. Equals `nft delete table ip routeagent` (and the
/// iptables chains, for each variant), `ip link del vx-submariner`,
/// `ip route flush table all proto 166`, `ip rule del ...`, `sysctl -w`.
/// Idempotent.
pub async fn uninstall(
    host: &dyn HostOps,
    required: &[Box<dyn Backend>],
    best_effort: &[Box<dyn Backend>],
) -> Uninstalled {
    let mut out = Uninstalled::default();
    let owned = owned();
    for b in required {
        if let Err(source) = b.remove(&owned) {
            out.errors.push(Error::Filter {
                backend: b.name().to_string(),
                source,
            });
        }
    }
    for b in best_effort {
        if let Err(e) = b.remove(&owned) {
            tracing::debug!(backend = b.name(), error = %errchain::Chain(&e), "removal skipped");
        }
    }
    let report = host.remove_all().await;
    out.host_changes = report.changes;
    out.errors
        .extend(report.errors.into_iter().map(Error::Host));
    out
}
