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
    RouteAgentStatus,
};
use errchain::Flat;
use kube::api::{DeleteParams, PostParams};
use kube::{Api, Client};
use std::sync::atomic::{AtomicU8, Ordering};
use tracing::{debug, info};

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
        }
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
                Some(obj) if self.same(&obj.status, &status) => return Ok(()),
                Some(mut obj) => {
                    obj.status = status.clone();
                    self.update(&obj).await
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
        let obj = RouteAgent::new(&self.name, &self.namespace, status.clone());
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
        self.update(&obj).await
    }

    /// Whether `stored` already says `want`. With Submariner's CRD the
    /// server prunes routeagent's own fields, so those are not compared.
    fn same(&self, stored: &RouteAgentStatus, want: &RouteAgentStatus) -> bool {
        stored == want || (self.mode.load(Ordering::Relaxed) == 2 && core(stored) == core(want))
    }

    /// `PUT .../status` (falls back to `PUT` of the object when the CRD has
    /// no status subresource).
    async fn update(&self, obj: &RouteAgent) -> Result<(), StatusError> {
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
