//! One level-triggered pass: compute the whole desired state from the
//! current topology and converge the host to it.

use crate::host::HostOps;
use capabilities::Constructs;
use packetfilter::{Backend, Owned};
use ruleset::RuleSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use topology::Topology;
use tracing::{debug, info, warn};

/// How the packet filter was brought to the desired state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterUpdate {
    /// The whole table was replaced atomically.
    Replaced,
    /// Only set elements changed.
    Sets,
    /// The kernel already held the desired state (verified).
    Unchanged,
    /// No backend (not ready) or the update failed.
    Failed,
}

impl FilterUpdate {
    /// Name shown in `/status`.
    pub fn as_str(self) -> &'static str {
        match self {
            FilterUpdate::Replaced => "replace",
            FilterUpdate::Sets => "sets",
            FilterUpdate::Unchanged => "unchanged",
            FilterUpdate::Failed => "failed",
        }
    }
}

/// What a pass did.
#[derive(Debug, Clone)]
pub struct PassOutcome {
    /// `gateway` or `non-gateway`.
    pub role: &'static str,
    /// Host objects changed.
    pub host_changes: usize,
    /// Packet-filter update kind.
    pub filter: FilterUpdate,
    /// Everything that went wrong, one sentence each naming the object.
    pub errors: Vec<String>,
    /// Planning warnings.
    pub warnings: Vec<String>,
    /// Wall time of the pass.
    pub duration: Duration,
}

impl PassOutcome {
    /// Whether the host now matches the plan.
    pub fn converged(&self) -> bool {
        self.errors.is_empty() && self.filter != FilterUpdate::Failed
    }
}

/// The packet-filter side: a backend chosen from capabilities.
pub struct Filter {
    /// The backend.
    pub backend: Box<dyn Backend>,
    /// The constructs it was chosen with.
    pub constructs: Constructs,
}

/// Holds what a pass needs between passes: the backend and the last ruleset
/// the kernel accepted.
pub struct Reconciler {
    node: String,
    host: Arc<dyn HostOps>,
    filter: Option<Filter>,
    applied: Option<RuleSet>,
}

/// The packet-filter tables the agent owns (all versions).
pub fn owned() -> Owned {
    Owned {
        table_names: plan::host::ownership::NFT_TABLES
            .iter()
            .map(|s| s.to_string())
            .collect(),
    }
}

impl Reconciler {
    /// A reconciler for `node`.
    pub fn new(node: impl Into<String>, host: Arc<dyn HostOps>, filter: Option<Filter>) -> Self {
        Reconciler {
            node: node.into(),
            host,
            filter,
            applied: None,
        }
    }

    /// Installs (or replaces) the packet-filter backend; the next pass
    /// replaces the whole ruleset.
    pub fn set_filter(&mut self, filter: Filter) {
        self.filter = Some(filter);
        self.applied = None;
    }

    /// The backend, if ready.
    pub fn filter(&self) -> Option<&Filter> {
        self.filter.as_ref()
    }

    /// Whether the kernel still holds the last applied ruleset (`Ok(true)`),
    /// or something changed it behind the agent's back.
    pub fn verify(&self) -> Result<bool, String> {
        match (&self.filter, &self.applied) {
            (Some(f), Some(rs)) => match f.backend.verify(rs) {
                Ok(()) => Ok(true),
                Err(packetfilter::Error::Drift(d)) => {
                    warn!(drift = %d, "packet filter changed behind the agent's back");
                    Ok(false)
                }
                Err(e) => Err(e.to_string()),
            },
            _ => Ok(true),
        }
    }

    /// One pass for `topo`.
    #[tracing::instrument(skip_all, fields(node = %self.node))]
    pub async fn pass(&mut self, topo: &Topology) -> PassOutcome {
        let start = Instant::now();
        let mut out = PassOutcome {
            role: "non-gateway",
            host_changes: 0,
            filter: FilterUpdate::Failed,
            errors: vec![],
            warnings: vec![],
            duration: Duration::ZERO,
        };
        let node = match topo.node(&self.node) {
            Ok(n) => n.clone(),
            Err(e) => {
                out.errors.push(e.to_string());
                out.duration = start.elapsed();
                return out;
            }
        };
        let gateway = topo
            .active_gateway()
            .filter(|g| g.hostname == self.node)
            .cloned();
        if gateway.is_some() {
            out.role = "gateway";
        }
        let public = gateway.as_ref().and_then(|g| g.public_ip);
        let facts = match self
            .host
            .facts(
                node.ip,
                &topo.cluster.cluster_cidrs,
                topo.tunables.cni_interface.as_deref(),
                public,
            )
            .await
        {
            Ok(f) => f,
            Err(e) => {
                out.errors.push(format!("host facts: {e}"));
                out.duration = start.elapsed();
                return out;
            }
        };
        let constructs = match &self.filter {
            Some(f) => f.constructs.clone(),
            None => {
                out.errors
                    .push("no packet-filter backend (not ready)".into());
                out.duration = start.elapsed();
                return out;
            }
        };
        let t_facts = start.elapsed();
        let input = plan::PlanInput {
            topology: topo,
            node: &self.node,
            facts: &facts,
            constructs: &constructs,
        };
        let host_plan = match plan::plan(&input) {
            Ok(p) => p,
            Err(e) => {
                out.errors.push(format!("plan: {e}"));
                out.duration = start.elapsed();
                return out;
            }
        };
        out.warnings = host_plan.warnings.clone();
        let t_plan = start.elapsed();
        let report = self.host.converge(&host_plan).await;
        let t_host = start.elapsed();
        out.host_changes = report.changes;
        out.errors.extend(report.errors);
        out.filter = self.apply_filter(&host_plan.ruleset, &mut out.errors);
        out.duration = start.elapsed();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        debug!(
            role = out.role,
            changes = out.host_changes,
            filter = out.filter.as_str(),
            facts_ms = ms(t_facts),
            plan_ms = ms(t_plan - t_facts),
            host_ms = ms(t_host - t_plan),
            filter_ms = ms(out.duration - t_host),
            ms = ms(out.duration),
            "pass done"
        );
        out
    }

    fn apply_filter(&mut self, desired: &RuleSet, errors: &mut Vec<String>) -> FilterUpdate {
        let Some(f) = &self.filter else {
            return FilterUpdate::Failed;
        };
        if let Some(prev) = &self.applied {
            if prev == desired {
                if f.backend.verify(desired).is_ok() {
                    return FilterUpdate::Unchanged;
                }
            } else if let Some(deltas) = prev.set_delta(desired) {
                match f.backend.update_sets(&deltas) {
                    Ok(()) => {
                        self.applied = Some(desired.clone());
                        return FilterUpdate::Sets;
                    }
                    Err(e) => warn!(error = %e, "set update failed; replacing the whole ruleset"),
                }
            }
        }
        match f.backend.apply(desired) {
            Ok(a) => {
                info!(
                    backend = f.backend.name(),
                    rules = a.rules,
                    elements = a.elements,
                    ms = a.duration.as_secs_f64() * 1e3,
                    "packet filter replaced atomically"
                );
                debug!(ruleset = %desired, "applied");
                self.applied = Some(desired.clone());
                FilterUpdate::Replaced
            }
            Err(e) => {
                // The kernel keeps the previous ruleset (all-or-nothing).
                errors.push(format!("packet filter ({}): {e}", f.backend.name()));
                FilterUpdate::Failed
            }
        }
    }

    /// Removes everything the agent owns: packet filter and host objects.
    pub async fn uninstall(&mut self) -> Vec<String> {
        let mut errors = vec![];
        if let Some(f) = &self.filter {
            if let Err(e) = f.backend.remove(&owned()) {
                errors.push(format!("packet filter: {e}"));
            }
        }
        if let Err(e) = self.host.remove_all().await {
            errors.push(format!("host: {e}"));
        }
        self.applied = None;
        errors
    }
}
