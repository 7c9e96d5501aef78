//! [`StatusWriter`]: one `RouteAgent` per node (named after the node) in
//! `SUBMARINER_NAMESPACE`, whose status carries the agent version, its
//! failures, each remote gateway's health and routeagent's backend and
//! degraded features.
//!
//! Works with both CRDs: ours (`deploy/crds`) has the status subresource,
//! Submariner's has none. The writer tries `PUT .../status` first and, on
//! `404` for an object that exists or `403` (Submariner's operator Role
//! grants `routeagents` but not `routeagents/status`), writes the whole
//! object from then on.
//! A `409 Conflict` (someone else wrote in between) is retried with the
//! fresh object.

use crate::config::KubeConfig;
use crate::crd::{
    ConnectionStatus, DegradedFeature, EndpointSpec, LatencyRttSpec, RemoteEndpoint, RouteAgent,
    RouteAgentStatus, TakeoverStatus,
};
use errchain::Flat;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{DeleteParams, PostParams};
use kube::{Api, Client};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;
use tracing::{debug, info};

/// The RouteAgent annotation holding the original values of the sysctls
/// the agent changed on this node (JSON object: key -> value), so that an
/// uninstall pod restores them even when no state directory survives (the
/// operator's DaemonSet mounts none).
pub const SYSCTL_ORIGINALS_ANNOTATION: &str = "routeagent.io/sysctl-originals";

/// How many times a write is retried after a 409 Conflict.
const CONFLICT_RETRIES: usize = 5;

/// What the agent reports; [`StatusWriter::report`] turns it into the status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentReport {
    /// The packet-filter backend in use (`nftables`, `iptables`).
    pub backend: String,
    /// Degraded features: (stable feature name, reason).
    pub degraded: Vec<(String, String)>,
    /// Current failures, one line each (joined into `statusFailure`).
    pub failures: Vec<String>,
    /// Health of each remote gateway (from [`crate::health::HealthChecker`]).
    pub remote: Vec<RemoteHealth>,
    /// The takeover from Submariner's route agent, when there was one.
    pub takeover: Option<TakeoverStatus>,
}

/// One remote gateway's health.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoteHealth {
    /// The remote Endpoint's spec.
    pub spec: EndpointSpec,
    /// Verdict.
    pub status: ConnectionStatus,
    /// Detail (`Failed to ping ... 5 times in a row`).
    pub message: String,
    /// Round-trip times, when any ping was answered.
    pub latency: Option<LatencyRttSpec>,
}

/// Writes this node's `RouteAgent`; see the module doc.
pub struct StatusWriter {
    api: Api<RouteAgent>,
    name: String,
    namespace: String,
    /// 0 = unknown, 1 = status subresource works, 2 = whole object.
    mode: AtomicU8,
    /// What the object's metadata carries besides its name.
    meta: Mutex<Meta>,
}

/// The metadata the writer keeps on the RouteAgent.
#[derive(Debug, Clone, Default)]
struct Meta {
    /// The agent's pod, when `POD_NAME` is set: the object goes away with it.
    owner: Option<OwnerReference>,
    /// Original sysctl values ([`SYSCTL_ORIGINALS_ANNOTATION`]).
    originals: BTreeMap<String, String>,
}

/// Errors writing the RouteAgent.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// An API call failed.
    #[error("cannot {verb} RouteAgent {namespace}/{name} (check the API server and that the service account may {verb} routeagents and routeagents/status in {namespace})")]
    Api {
        /// The operation.
        verb: &'static str,
        /// Namespace.
        namespace: String,
        /// Node name.
        name: String,
        /// The cause (its message already includes its own causes).
        #[source]
        source: Flat<kube::Error>,
    },
    /// Still conflicting after the retries.
    #[error("RouteAgent {namespace}/{name} kept changing under us ({CONFLICT_RETRIES} conflicts in a row); will retry on the next report")]
    Conflict {
        /// Namespace.
        namespace: String,
        /// Node name.
        name: String,
    },
}

fn code(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

/// Submariner's part of a status (what its CRD's schema keeps).
fn core(s: &RouteAgentStatus) -> RouteAgentStatus {
    RouteAgentStatus {
        backend: None,
        degraded_features: Vec::new(),
        takeover: None,
        ..s.clone()
    }
}

/// The status for `report`.
pub fn status_of(report: &AgentReport) -> RouteAgentStatus {
    RouteAgentStatus {
        version: env!("CARGO_PKG_VERSION").to_string(),
        status_failure: report.failures.join("; "),
        remote_endpoints: report
            .remote
            .iter()
            .map(|r| RemoteEndpoint {
                status: r.status,
                status_message: r.message.clone(),
                spec: r.spec.clone(),
                latency_rtt: r.latency.clone(),
            })
            .collect(),
        backend: Some(report.backend.clone()).filter(|b| !b.is_empty()),
        degraded_features: report
            .degraded
            .iter()
            .map(|(feature, reason)| DegradedFeature {
                feature: feature.clone(),
                reason: reason.clone(),
            })
            .collect(),
        takeover: report.takeover.clone(),
    }
}

impl StatusWriter {
    /// A writer for node `cfg.node_name` in `cfg.namespace`.
    pub fn new(client: Client, cfg: &KubeConfig) -> Self {
        StatusWriter {
            api: Api::namespaced(client, &cfg.namespace),
            name: cfg.node_name.clone(),
            namespace: cfg.namespace.clone(),
            mode: AtomicU8::new(0),
            meta: Mutex::new(Meta::default()),
        }
    }

    /// Makes the agent's pod the RouteAgent's owner (Kubernetes deletes the
    /// object with the pod), as Submariner's route agent does; set on the
    /// next write. Not while the object carries sysctl originals: those
    /// must outlive the pod for the uninstall pod.
    pub fn set_owner(&self, owner: OwnerReference) {
        self.lock_meta().owner = Some(owner);
    }

    fn lock_meta(&self) -> std::sync::MutexGuard<'_, Meta> {
        self.meta.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Brings `obj`'s annotation and owner references to what the writer
    /// keeps; true when that changed them.
    fn dress(&self, obj: &mut RouteAgent) -> bool {
        let meta = self.lock_meta().clone();
        let before = (
            obj.metadata.annotations.clone(),
            obj.metadata.owner_references.clone(),
        );
        let annotations = obj.metadata.annotations.get_or_insert_with(BTreeMap::new);
        if meta.originals.is_empty() {
            annotations.remove(SYSCTL_ORIGINALS_ANNOTATION);
        } else {
            annotations.insert(
                SYSCTL_ORIGINALS_ANNOTATION.into(),
                serde_json::to_string(&meta.originals).unwrap_or_default(),
            );
        }
        if annotations.is_empty() {
            obj.metadata.annotations = None;
        }
        let refs = obj.metadata.owner_references.get_or_insert_with(Vec::new);
        let uid = meta.owner.as_ref().map(|o| o.uid.clone());
        // Only our own pod references (kind Pod) are managed here.
        refs.retain(|r| {
            r.kind != "Pod" || (Some(&r.uid) == uid.as_ref() && meta.originals.is_empty())
        });
        if let Some(o) = meta.owner.filter(|_| meta.originals.is_empty()) {
            if !refs.iter().any(|r| r.uid == o.uid) {
                refs.push(o);
            }
        }
        if refs.is_empty() {
            obj.metadata.owner_references = None;
        }
        before
            != (
                obj.metadata.annotations.clone(),
                obj.metadata.owner_references.clone(),
            )
    }

    /// The sysctl originals this node's RouteAgent carries (empty when
    /// there is no object or annotation); the writer keeps them too.
    pub async fn load_sysctl_originals(&self) -> Result<BTreeMap<String, String>, StatusError> {
        let obj = self
            .api
            .get_opt(&self.name)
            .await
            .map_err(|e| self.err("get", e))?;
        let originals: BTreeMap<String, String> = obj
            .as_ref()
            .and_then(|o| o.metadata.annotations.as_ref())
            .and_then(|a| a.get(SYSCTL_ORIGINALS_ANNOTATION))
            .and_then(|v| serde_json::from_str(v).ok())
            .unwrap_or_default();
        self.lock_meta().originals.clone_from(&originals);
        Ok(originals)
    }

    /// Records `originals` on this node's RouteAgent (creating it if
    /// needed) and returns once the API server has it: the agent calls this
    /// before it changes a sysctl. Uses only `get`, `create` and `update`
    /// of `routeagents` (what Submariner's operator grants).
    pub async fn store_sysctl_originals(
        &self,
        originals: &BTreeMap<String, String>,
    ) -> Result<(), StatusError> {
        self.lock_meta().originals.clone_from(originals);
        for _ in 0..CONFLICT_RETRIES {
            let current = self
                .api
                .get_opt(&self.name)
                .await
                .map_err(|e| self.err("get", e))?;
            let result = match current {
                None => self.create(&status_of(&AgentReport::default())).await,
                Some(mut obj) => {
                    if !self.dress(&mut obj) {
                        return Ok(());
                    }
                    self.api
                        .replace(&self.name, &PostParams::default(), &obj)
                        .await
                        .map(|_| ())
                        .map_err(|e| self.err("update", e))
                }
            };
            match result {
                Err(StatusError::Api { source, .. }) if code(&source.0) == Some(409) => {}
                other => return other,
            }
        }
        Err(StatusError::Conflict {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        })
    }

    /// Deletes this node's RouteAgent when the agent stops gracefully (as
    /// Submariner's route agent does; it is created again at start), unless
    /// it carries sysctl originals, which the uninstall pod needs: then it
    /// is kept. True when deleted.
    pub async fn delete_on_stop(&self) -> Result<bool, StatusError> {
        if !self.lock_meta().originals.is_empty() {
            info!(routeagent = %self.name, "keeping the RouteAgent: it holds the original sysctl values for uninstall");
            return Ok(false);
        }
        self.delete().await.map(|()| true)
    }

    fn err(&self, verb: &'static str, source: kube::Error) -> StatusError {
        StatusError::Api {
            verb,
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            source: Flat(source),
        }
    }

    /// Creates or updates this node's RouteAgent with `report`
    /// (`kubectl apply` of the object, then of its status).
    pub async fn report(&self, report: &AgentReport) -> Result<(), StatusError> {
        let status = status_of(report);
        for _ in 0..CONFLICT_RETRIES {
            let current = self
                .api
                .get_opt(&self.name)
                .await
                .map_err(|e| self.err("get", e))?;
            let result = match current {
                None => self.create(&status).await,
                Some(mut obj) => {
                    let dressed = self.dress(&mut obj);
                    if !dressed && self.same(&obj.status, &status) {
                        return Ok(());
                    }
                    obj.status = status.clone();
                    self.update(&obj, dressed).await
                }
            };
            match result {
                Err(StatusError::Api { source, .. }) if code(&source.0) == Some(409) => {
                    debug!(routeagent = %self.name, "conflict writing the RouteAgent; retrying with the fresh object");
                }
                other => return other,
            }
        }
        Err(StatusError::Conflict {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        })
    }

    async fn create(&self, status: &RouteAgentStatus) -> Result<(), StatusError> {
        let mut obj = RouteAgent::new(&self.name, &self.namespace, status.clone());
        self.dress(&mut obj);
        let created = self
            .api
            .create(&PostParams::default(), &obj)
            .await
            .map_err(|e| self.err("create", e))?;
        info!(routeagent = %self.name, namespace = %self.namespace, "created RouteAgent");
        if core(&created.status) == core(status) {
            // Kept on create: the CRD has no status subresource.
            self.mode.store(2, Ordering::Relaxed);
            return Ok(());
        }
        // With a status subresource the server dropped the status on create.
        self.mode.store(1, Ordering::Relaxed);
        let mut obj = created;
        obj.status = status.clone();
        self.update(&obj, false).await
    }

    /// Whether `stored` already says `want`. With Submariner's CRD the
    /// server prunes routeagent's own fields, so those are not compared.
    fn same(&self, stored: &RouteAgentStatus, want: &RouteAgentStatus) -> bool {
        stored == want || (self.mode.load(Ordering::Relaxed) == 2 && core(stored) == core(want))
    }

    /// `PUT .../status` (falls back to `PUT` of the object when the CRD has
    /// no status subresource); `PUT` of the object first when its metadata
    /// changed (`dressed`).
    async fn update(&self, obj: &RouteAgent, dressed: bool) -> Result<(), StatusError> {
        let mut obj = obj.clone();
        if dressed && self.mode.load(Ordering::Relaxed) != 2 {
            let status = obj.status.clone();
            obj = self
                .api
                .replace(&self.name, &PostParams::default(), &obj)
                .await
                .map_err(|e| self.err("update", e))?;
            obj.status = status;
        }
        let obj = &obj;
        if self.mode.load(Ordering::Relaxed) != 2 {
            match self.replace_status(obj).await {
                Ok(()) => {
                    self.mode.store(1, Ordering::Relaxed);
                    return Ok(());
                }
                Err(e) if code(&e) == Some(403) => {
                    // Submariner's operator grants routeagents but not
                    // routeagents/status (its CRD has no such subresource).
                    info!(routeagent = %self.name, "not allowed to write routeagents/status (Submariner's operator Role); writing the whole object");
                    self.mode.store(2, Ordering::Relaxed);
                }
                Err(e) if code(&e) == Some(404) => {
                    // 404 for an object that exists: no status subresource.
                    if self
                        .api
                        .get_opt(&self.name)
                        .await
                        .map_err(|e| self.err("get", e))?
                        .is_none()
                    {
                        return Err(self.err("update the status of", e));
                    }
                    info!(routeagent = %self.name, "the RouteAgent CRD has no status subresource (Submariner's CRD); writing the whole object");
                    self.mode.store(2, Ordering::Relaxed);
                }
                Err(e) => return Err(self.err("update the status of", e)),
            }
        }
        let written = self
            .api
            .replace(&self.name, &PostParams::default(), obj)
            .await
            .map_err(|e| self.err("update", e))?;
        if core(&written.status) != core(&obj.status) {
            // The server ignored the status: the CRD has the subresource now.
            self.mode.store(1, Ordering::Relaxed);
            let mut fresh = written;
            fresh.status = obj.status.clone();
            self.replace_status(&fresh)
                .await
                .map_err(|e| self.err("update the status of", e))?;
        }
        Ok(())
    }

    /// `PUT .../routeagents/NAME/status`.
    async fn replace_status(&self, obj: &RouteAgent) -> Result<(), kube::Error> {
        self.api
            .replace_status(&self.name, &PostParams::default(), obj)
            .await
            .map(|_| ())
    }

    /// Deletes this node's RouteAgent (uninstall); absent is fine.
    pub async fn delete(&self) -> Result<(), StatusError> {
        match self.api.delete(&self.name, &DeleteParams::default()).await {
            Ok(_) => {
                info!(routeagent = %self.name, "deleted RouteAgent");
                Ok(())
            }
            Err(e) if code(&e) == Some(404) => Ok(()),
            Err(e) => Err(self.err("delete", e)),
        }
    }
}
