//! One level-triggered pass: compute the whole desired state from the
//! current topology and converge the host to it.

use crate::error::Error;
use crate::host::{HostOps, Scope};
use crate::ovn::OvnSide;
use crate::takeover::{Takeover, TakeoverReport};
use capabilities::Constructs;
use packetfilter::{Backend, Owned};
use plan::{FactsQuery, Role};
use ruleset::RuleSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use topology::{Datapath, Topology};
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

/// Where a pass spent its time.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PhaseTimes {
    /// Learning the host's interfaces.
    pub facts: Duration,
    /// Planning.
    pub plan: Duration,
    /// Converging host objects.
    pub host: Duration,
    /// Bringing the packet filter to the plan.
    pub filter: Duration,
}

/// What a pass did.
#[derive(Debug)]
pub struct PassOutcome {
    /// This node's role in the topology the pass acted on (`None` when the
    /// node is not in it).
    pub role: Option<Role>,
    /// Host objects changed.
    pub host_changes: usize,
    /// Packet-filter update kind.
    pub filter: FilterUpdate,
    /// Everything that went wrong, each naming its object.
    pub errors: Vec<Error>,
    /// Planning warnings, then the host's notices (settings it may not
    /// change here, each with its fix).
    pub warnings: Vec<String>,
    /// Wall time of the pass.
    pub duration: Duration,
    /// Wall time per phase.
    pub phases: PhaseTimes,
    /// What the takeover steps of this pass did, when they ran.
    pub takeover: Option<TakeoverReport>,
    /// On the OVN datapath, what this node wants in its northbound
    /// database (`ovn::topo::wanted`; `None`: nothing to write here).
    pub northbound: Option<ovn::Desired>,
}

impl PassOutcome {
    fn new() -> Self {
        PassOutcome {
            role: None,
            host_changes: 0,
            filter: FilterUpdate::Failed,
            errors: vec![],
            warnings: vec![],
            duration: Duration::ZERO,
            phases: PhaseTimes::default(),
            takeover: None,
            northbound: None,
        }
    }

    /// Whether the host now matches the plan.
    pub fn converged(&self) -> bool {
        self.errors.is_empty() && self.filter != FilterUpdate::Failed
    }

    /// The errors with their causes, one line each (`/status`, logs).
    pub fn error_lines(&self) -> Vec<String> {
        self.errors
            .iter()
            .map(|e| errchain::Chain(e).to_string())
            .collect()
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
    takeover: Option<Arc<dyn Takeover>>,
    ovn: Option<OvnSide>,
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
            takeover: None,
            ovn: None,
        }
    }

    /// Runs the OVN datapath's northbound side through `side` whenever a
    /// pass plans that datapath (see [`OvnSide`]).
    pub fn with_ovn(mut self, side: OvnSide) -> Self {
        self.ovn = Some(side);
        self
    }

    /// Runs `t`'s steps in every pass until one takeover completes without
    /// errors (see [`Takeover`]).
    pub fn with_takeover(mut self, t: Arc<dyn Takeover>) -> Self {
        self.takeover = Some(t);
        self
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
    /// or something changed it behind the agent's back (`Ok(false)`).
    pub fn verify(&self) -> Result<bool, Error> {
        let (Some(f), Some(rs)) = (&self.filter, &self.applied) else {
            return Ok(true);
        };
        match f.backend.verify(rs) {
            Ok(()) => Ok(true),
            Err(packetfilter::Error::Drift(d)) => {
                warn!(drift = %d, "packet filter changed behind the agent's back");
                Ok(false)
            }
            Err(source) => Err(Error::Filter {
                backend: f.backend.name().to_string(),
                source,
            }),
        }
    }

    /// One full pass for `topo` (everything read back and compared).
    pub async fn pass(&mut self, topo: &Topology) -> PassOutcome {
        self.pass_scoped(topo, Scope::Full).await
    }

    /// One pass for `topo`, converging the host in `scope`.
    #[tracing::instrument(skip_all, fields(node = %self.node, ?scope))]
    pub async fn pass_scoped(&mut self, topo: &Topology, scope: Scope) -> PassOutcome {
        let start = Instant::now();
        let mut out = PassOutcome::new();
        if let Err(e) = self.pass_steps(topo, scope, start, &mut out).await {
            out.errors.push(e);
        }
        out.duration = start.elapsed();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        debug!(
            role = ?out.role,
            changes = out.host_changes,
            filter = out.filter.as_str(),
            facts_ms = ms(out.phases.facts),
            plan_ms = ms(out.phases.plan),
            host_ms = ms(out.phases.host),
            filter_ms = ms(out.phases.filter),
            ms = ms(out.duration),
            "pass done"
        );
        out
    }

    /// The steps of a pass; an `Err` stops it before the host is touched
    /// (first of all a network plugin whose datapath is not supported:
    /// [`topology::Cni::datapath`]). The OVN datapath plans with
    /// [`plan::plan_ovn`] and hands the northbound side its wanted state
    /// (which converges on its own task).
    async fn pass_steps(
        &mut self,
        topo: &Topology,
        scope: Scope,
        start: Instant,
        out: &mut PassOutcome,
    ) -> Result<(), Error> {
        let datapath = topo.cluster.cni.datapath()?;
        let query = FactsQuery::new(topo, &self.node)?;
        out.role = Some(query.role);
        let facts = self.host.facts(&query).await.map_err(Error::Facts)?;
        let constructs = self
            .filter
            .as_ref()
            .map(|f| f.constructs.clone())
            .ok_or(Error::NotReady)?;
        let input = plan::PlanInput {
            topology: topo,
            node: &self.node,
            facts: &facts,
            constructs: &constructs,
        };
        let host_plan = match datapath {
            Datapath::KubeProxy => {
                out.phases.facts = start.elapsed();
                if let Some(side) = &mut self.ovn {
                    side.not_wanted();
                }
                plan::plan(&input)?
            }
            Datapath::Ovn => {
                let ovn_facts = self
                    .host
                    .ovn_facts(&topo.cluster.cluster_cidrs)
                    .await
                    .map_err(Error::Facts)?;
                out.phases.facts = start.elapsed();
                out.northbound = ovn::topo::wanted(topo, &self.node, ovn_facts.mp0_addr);
                if let Some(side) = &mut self.ovn {
                    side.wants(out.northbound.clone());
                }
                plan::plan_ovn(&input, &ovn_facts)?
            }
        };
        out.warnings = host_plan.warnings.clone();
        out.phases.plan = start.elapsed() - out.phases.facts;
        let takeover = self.takeover.clone();
        let mut taken = match &takeover {
            Some(t) => Some(t.prepare(&host_plan).await),
            None => None,
        };
        let t = Instant::now();
        let report = self.host.converge(&host_plan, scope).await;
        out.phases.host = t.elapsed();
        out.host_changes = report.changes;
        out.warnings.extend(report.notices);
        out.errors
            .extend(report.errors.into_iter().map(Error::Host));
        let t = Instant::now();
        out.filter = self.apply_filter(&host_plan.ruleset, &mut out.errors);
        out.phases.filter = t.elapsed();
        if let (Some(t), Some(r)) = (&takeover, taken.as_mut()) {
            // Make before break: the other agent's objects go only once
            // this agent's packet filter is in place.
            if out.filter != FilterUpdate::Failed {
                r.extend(t.finish(&host_plan).await);
            } else {
                r.errors.push(
                    "the other agent's rules were left in place: this agent's packet filter is not in place yet".into(),
                );
            }
            if r.errors.is_empty() {
                self.takeover = None;
            }
            if !r.found.is_empty() {
                info!(report = ?r, "takeover from Submariner's route agent");
            }
        }
        out.takeover = taken;
        Ok(())
    }

    fn apply_filter(&mut self, desired: &RuleSet, errors: &mut Vec<Error>) -> FilterUpdate {
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
                    Err(e) => {
                        warn!(error = %errchain::Chain(&e), "set update failed; replacing the whole ruleset")
                    }
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
            Err(source) => {
                // The kernel keeps the previous ruleset (all-or-nothing).
                errors.push(Error::Filter {
                    backend: f.backend.name().to_string(),
                    source,
                });
                FilterUpdate::Failed
            }
        }
    }
}
