//! The agent's status: what `/status` returns and `/metrics` counts. Every
//! change goes through a method here, so a reader never sees half of one.

use crate::metrics::Counters;
use crate::reconcile::{Filter, FilterUpdate, PassOutcome};
use crate::run::Trigger;
use crate::source::SourceUpdate;
use capabilities::{Degradation, Feature, FeatureState, NotReady};
use plan::Role;
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};
use topology::Topology;

/// The outcome of the last pass.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LastApply {
    /// Unix time in milliseconds when the pass ended.
    pub at_unix_ms: u128,
    /// How long the pass took.
    pub duration_ms: f64,
    /// Whether every step succeeded.
    pub ok: bool,
    /// What triggered it.
    pub trigger: String,
    /// Host objects changed (created + updated + deleted).
    pub host_changes: usize,
    /// How the packet filter was updated: `replace`, `sets`, `unchanged`, `failed`.
    pub packet_filter: String,
    /// Where the pass spent its time.
    pub phases: PhasesMs,
}

/// A pass's phases in milliseconds, as `/status` shows them.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct PhasesMs {
    /// Learning the host's interfaces.
    pub facts: f64,
    /// Planning.
    pub plan: f64,
    /// Converging host objects.
    pub host: f64,
    /// Bringing the packet filter to the plan.
    pub filter: f64,
}

/// Everything `/status` shows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Status {
    /// This node.
    pub node: String,
    /// `gateway` or `non-gateway` (`unknown` before the first topology).
    #[serde(serialize_with = "role_or_unknown")]
    pub role: Option<Role>,
    /// The packet-filter backend in use (`none` when not ready).
    pub backend: String,
    /// Why this backend was chosen.
    pub backend_reason: String,
    /// Can do its core job (a backend and a valid topology).
    pub ready: bool,
    /// The last pass converged the host to the current topology.
    pub converged: bool,
    /// Why not ready, if not.
    pub not_ready_reason: Option<String>,
    /// FNV-1a 64 of the topology source's bytes the agent acts on.
    pub config_digest: String,
    /// Local cluster id.
    pub cluster: String,
    /// Remote cluster ids.
    pub remote_clusters: Vec<String>,
    /// The cluster's network plugin (`cluster.cni`, `SUBMARINER_NETWORKPLUGIN`).
    pub cni: String,
    /// The datapath programmed for it (`kube-proxy`, `ovn-kubernetes`), or `unsupported`
    /// (nothing is programmed; the reason is in `errors`); empty before the
    /// first topology.
    pub datapath: String,
    /// Every feature with its state.
    pub features: BTreeMap<String, FeatureState>,
    /// Features the agent runs without.
    pub degradations: Vec<Degradation>,
    /// Current errors (topology, host objects, kernel refusals).
    pub errors: Vec<String>,
    /// Planning warnings (address collisions, skipped CIDRs).
    pub warnings: Vec<String>,
    /// The last pass.
    pub last_apply: Option<LastApply>,
    /// What the last takeover from Submariner's route agent found and did
    /// (`None` until one ran).
    pub takeover: Option<crate::takeover::TakeoverReport>,
    /// The OVN northbound side (`None` until a pass planned the OVN
    /// datapath): endpoint, `idle`/`converged`/`degraded`, whether
    /// connected, why degraded. It does not affect `ready` or `converged`,
    /// which are about the host.
    pub ovn: Option<ovn::NbStatus>,
    /// Counters and histograms for /metrics.
    #[serde(skip)]
    pub counters: Counters,
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn role_or_unknown<S: Serializer>(role: &Option<Role>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(role.map_or("unknown", Role::as_str))
}

/// The status shared between the loop and the HTTP server.
pub type SharedStatus = Arc<RwLock<Status>>;

impl Status {
    /// The status of `node` before anything happened: no role, no backend.
    pub fn new(node: impl Into<String>) -> Status {
        Status {
            node: node.into(),
            backend: "none".into(),
            ..Default::default()
        }
    }

    /// A new [`SharedStatus`] for `node`.
    pub fn shared(node: impl Into<String>) -> SharedStatus {
        Arc::new(RwLock::new(Status::new(node)))
    }

    /// Fills `features` and `degradations` from the chosen constructs.
    pub fn set_features(
        &mut self,
        features: &BTreeMap<Feature, FeatureState>,
        degradations: &[Degradation],
    ) {
        self.features = features
            .iter()
            .map(|(f, s)| (f.name().to_string(), s.clone()))
            .collect();
        self.degradations = degradations.to_vec();
    }

    /// A packet-filter backend was chosen.
    pub fn backend_chosen(&mut self, f: &Filter) {
        self.backend = f.backend.name().to_string();
        self.backend_reason = f.constructs.why.clone();
        self.set_features(&f.constructs.features, &f.constructs.degradations);
        self.not_ready_reason = None;
    }

    /// No packet-filter backend can be had (yet).
    pub fn backend_unavailable(&mut self, why: &NotReady) {
        self.ready = false;
        self.backend = "none".into();
        self.not_ready_reason = Some(why.to_string());
    }

    /// The OVN northbound side reported `nb`.
    pub fn ovn_changed(&mut self, nb: &ovn::NbStatus) {
        self.ovn = Some(nb.clone());
    }

    /// The source has no valid topology to act on.
    pub fn no_topology(&mut self, update: &SourceUpdate) {
        self.config_digest = update.digest.clone();
        self.ready = false;
        self.converged = false;
        self.errors = update.error.iter().cloned().collect();
        if update.error.is_some() {
            self.counters.topology_errors.inc();
        }
        self.not_ready_reason = Some(
            update
                .error
                .clone()
                .unwrap_or_else(|| "no topology yet".into()),
        );
    }

    /// A pass ran on `topo` from `update`, because of `trigger`; `ready`
    /// says whether a backend is in place. Digest, outcome and role are
    /// published together: a reader never sees the new digest next to the
    /// previous pass's result. Returns whether the pass repaired an
    /// external change.
    pub fn pass_done(
        &mut self,
        update: &SourceUpdate,
        topo: &Topology,
        trigger: &Trigger,
        outcome: &PassOutcome,
        ready: bool,
    ) -> bool {
        let converged = outcome.converged();
        self.config_digest = update.digest.clone();
        self.errors = update.error.iter().cloned().collect();
        if update.error.is_some() {
            self.counters.topology_errors.inc();
        }
        self.role = outcome.role;
        self.cluster = topo.cluster.id.clone();
        self.remote_clusters = topo.remote_clusters.iter().map(|r| r.id.clone()).collect();
        self.cni = topo.cluster.cni.name().to_string();
        let datapath = topo.cluster.cni.datapath();
        self.datapath = datapath
            .as_ref()
            .map_or("unsupported", |d| d.as_str())
            .to_string();
        self.ready = ready && datapath.is_ok();
        match &datapath {
            Err(e) => self.not_ready_reason = Some(e.to_string()),
            Ok(_) if ready => self.not_ready_reason = None,
            Ok(_) => {}
        }
        // A refused reload keeps the agent converged on the last good
        // topology, but the digest shows the refused input.
        self.converged = converged && update.error.is_none();
        self.errors.extend(outcome.error_lines());
        self.warnings = outcome.warnings.clone();
        if let Some(t) = &outcome.takeover {
            self.takeover = Some(match self.takeover.take() {
                Some(before) => before.followed_by(t.clone()),
                None => t.clone(),
            });
        }
        let c = &self.counters;
        c.passes.inc();
        c.pass_seconds.observe(outcome.duration.as_secs_f64());
        for (phase, d) in [
            ("facts", outcome.phases.facts),
            ("plan", outcome.phases.plan),
            ("host", outcome.phases.host),
            ("filter", outcome.phases.filter),
        ] {
            c.observe_phase(phase, d.as_secs_f64());
        }
        if !converged {
            c.pass_errors.inc();
        }
        match outcome.filter {
            FilterUpdate::Replaced => {
                c.filter_replaces.inc();
            }
            FilterUpdate::Sets => {
                c.filter_set_updates.inc();
            }
            FilterUpdate::Unchanged | FilterUpdate::Failed => {}
        }
        let repaired = matches!(trigger, Trigger::Drift(_))
            && (outcome.host_changes > 0 || outcome.filter == FilterUpdate::Replaced);
        if repaired {
            c.repairs.inc();
        }
        self.last_apply = Some(LastApply {
            at_unix_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0),
            duration_ms: ms(outcome.duration),
            ok: converged,
            trigger: trigger.to_string(),
            host_changes: outcome.host_changes,
            packet_filter: outcome.filter.as_str().to_string(),
            phases: PhasesMs {
                facts: ms(outcome.phases.facts),
                plan: ms(outcome.phases.plan),
                host: ms(outcome.phases.host),
                filter: ms(outcome.phases.filter),
            },
        });
        repaired
    }
}
