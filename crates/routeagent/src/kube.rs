//! `run --source kubernetes`: Submariner's Endpoints and Nodes as the
//! topology source, the health checker's figures in `/metrics`, the
//! node's RouteAgent status written periodically, and on the OVN datapath
//! the node's `k8s.ovn.org/node-ingress-snat-exclude-subnets`, on the
//! gateway Submariner's `GatewayRoute` / `NonGatewayRoute` objects, and the
//! northbound database found through the API ([`Kube::nb_config`]).

use crate::host::JournalStore;
use agent::host::BoxFuture;
use agent::metrics::ExtraMetrics;
use agent::source::SourceUpdate;
use agent::SharedStatus;
use anyhow::{Context, Result};
use hostnet::SysctlJournal;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube_source::crd::TakeoverStatus;
use kube_source::health::HealthChecker;
use kube_source::route_objects::RouteObjects;
use kube_source::snat_exclude::SnatExclude;
use kube_source::{AgentReport, KubeConfig, SourceState, StatusWriter};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// The running Kubernetes side of the agent.
pub struct Kube {
    /// Topology updates for the reconcile loop.
    pub updates: watch::Receiver<SourceUpdate>,
    /// The health checker's metrics for `/metrics`.
    pub metrics: ExtraMetrics,
    writer: Arc<StatusWriter>,
    health: HealthChecker,
    snat_exclude: Arc<SnatExclude>,
    route_objects: Arc<RouteObjects>,
    node: String,
    client: kube::Client,
    ovn: bool,
}

impl Kube {
    /// Reads SUBMARINER_* from the environment, connects, starts watching.
    pub async fn connect(node: &str) -> Result<Kube> {
        let mut cfg = KubeConfig::from_env().context("Kubernetes configuration")?;
        if cfg.node_name != node {
            tracing::warn!(env = %cfg.node_name, flag = %node, "--node differs from NODE_NAME; using --node");
            cfg.node_name = node.to_string();
        }
        let client = kube_source::client(&cfg).await?;
        let writer = Arc::new(StatusWriter::new(client.clone(), &cfg));
        if let Some(pod) = &cfg.pod_name {
            match owner(&client, &cfg.namespace, pod).await {
                Ok(o) => writer.set_owner(o),
                Err(e) => {
                    tracing::warn!(pod = %pod, error = %errchain::Chain(&*e), "cannot read the agent's pod (POD_NAME); the RouteAgent gets no owner reference")
                }
            }
        }
        let (rx, _task) = kube_source::start(client.clone(), cfg.clone());
        let health = HealthChecker::new(cfg.health_check.clone());
        health.spawn(rx.clone(), cfg.node_name.clone());
        let metrics: ExtraMetrics = Arc::new(health.clone());
        let updates = map(rx);
        let snat_exclude = Arc::new(SnatExclude::new(client.clone(), &cfg.node_name));
        keep_snat_exclude(snat_exclude.clone(), updates.clone());
        let route_objects = Arc::new(RouteObjects::new(client.clone(), &cfg.namespace));
        Ok(Kube {
            updates,
            metrics,
            writer,
            health,
            snat_exclude,
            route_objects,
            node: cfg.node_name.clone(),
            client,
            ovn: cfg.network_plugin.datapath() == Ok(topology::Datapath::Ovn),
        })
    }

    /// The northbound database: on the OVN datapath found through the API
    /// ([`nb_config`]), else as in file mode (unused off OVN, and no
    /// request is made).
    pub async fn nb_config(&self) -> ovn::Result<ovn::NbConfig> {
        if !self.ovn {
            return ovn::NbConfig::from_env();
        }
        nb_config(&self.client, &self.node).await
    }

    /// The sysctl originals kept on the node's RouteAgent (annotation
    /// `routeagent.io/sysctl-originals`); empty when there are none.
    pub async fn sysctl_originals(&self) -> Result<SysctlJournal> {
        Ok(SysctlJournal {
            originals: self.writer.load_sysctl_originals().await?,
        })
    }

    /// The RouteAgent as a [`JournalStore`].
    pub fn journal_store(&self) -> Arc<dyn JournalStore> {
        Arc::new(RouteAgentJournal(self.writer.clone()))
    }

    /// Graceful stop (SIGTERM): deletes the node's RouteAgent, as
    /// Submariner's route agent does, unless it holds sysctl originals.
    pub async fn stopped(&self) {
        if let Err(e) = self.writer.delete_on_stop().await {
            tracing::warn!(error = %errchain::Chain(&e), "cannot delete the RouteAgent on stop");
        }
    }

    /// Writes the node's RouteAgent status from `/status`: at once, within
    /// a second of a change of what it says besides the remote gateways'
    /// health (a takeover, a failure, a degradation), and every `every`.
    pub fn report_every(&self, every: Duration, status: SharedStatus) {
        let (writer, health) = (self.writer.clone(), self.health.clone());
        tokio::spawn(async move {
            let mut last: Option<(AgentReport, Instant)> = None;
            loop {
                let report = {
                    let s = status.read().unwrap_or_else(|p| p.into_inner());
                    AgentReport {
                        backend: s.backend.clone(),
                        degraded: s
                            .degradations
                            .iter()
                            .map(|d| (d.feature.name().to_string(), d.reason.clone()))
                            .collect(),
                        failures: s.errors.clone(),
                        remote: Vec::new(),
                        takeover: s.takeover.as_ref().map(takeover_status),
                    }
                };
                let due = last
                    .as_ref()
                    .is_none_or(|(r, at)| *r != report || at.elapsed() >= every);
                if due {
                    last = Some((report.clone(), Instant::now()));
                    let report = AgentReport {
                        remote: health.results(),
                        ..report
                    };
                    if let Err(e) = writer.report(&report).await {
                        tracing::warn!(error = %errchain::Chain(&e), "cannot write the RouteAgent status; retrying");
                    }
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }

    /// Deletes the node's RouteAgent and removes routeagent's entries from
    /// the node's `k8s.ovn.org/node-ingress-snat-exclude-subnets`
    /// (uninstall).
    pub async fn delete_status(&self) -> Result<()> {
        if let Err(e) = self.snat_exclude.keep(&[]).await {
            tracing::warn!(error = %errchain::Chain(&e), "routeagent's OVN ingress SNAT exclusions stay on the node; remove them by hand");
        }
        Ok(self.writer.delete().await?)
    }
}

/// The RouteAgent status' summary of a takeover report.
fn takeover_status(t: &agent::takeover::TakeoverReport) -> TakeoverStatus {
    let n = |v: &[String]| u32::try_from(v.len()).unwrap_or(u32::MAX);
    TakeoverStatus {
        found: n(&t.found),
        adopted: n(&t.adopted),
        removed: n(&t.removed),
        kept: n(&t.kept),
        conflicts: n(&t.conflicts),
        errors: t.errors.clone(),
    }
}

/// On the OVN datapath, keeps the node's
/// `k8s.ovn.org/node-ingress-snat-exclude-subnets` listing the remote
/// subnets, on every topology change and every 30 s (a failure is logged
/// and retried; it never stops the agent).
fn keep_snat_exclude(a: Arc<SnatExclude>, mut updates: watch::Receiver<SourceUpdate>) {
    tokio::spawn(async move {
        loop {
            let topo = updates.borrow_and_update().topology.clone();
            if let Some(t) =
                topo.filter(|t| t.cluster.cni.datapath() == Ok(topology::Datapath::Ovn))
            {
                if let Err(e) = a.keep(&t.remote_cidrs()).await {
                    tracing::warn!(error = %errchain::Chain(&e), "cannot keep the OVN ingress SNAT exclusions on the node; inbound remote traffic may lose its source");
                }
            }
            // A change, or 30 s; the source ended: stop.
            let next = tokio::time::timeout(Duration::from_secs(30), updates.changed()).await;
            if let Ok(Err(_)) = next {
                return;
            }
        }
    });
}

impl Kube {
    /// On the OVN datapath's gateway, keeps Submariner's `GatewayRoute` and
    /// `NonGatewayRoute` objects what the topology and the northbound
    /// side's next hop (`/status` `ovn.nexthop`) say: within a second of a
    /// change, and every 30 s (a failure is logged and retried; it never
    /// stops the agent). Other nodes leave them to the gateway.
    pub fn keep_route_objects(&self, status: SharedStatus) {
        let (writer, node) = (self.route_objects.clone(), self.node.clone());
        let updates = self.updates.clone();
        tokio::spawn(async move {
            // What was last written (or tried), and when it is due again.
            let mut last: Option<(Vec<kube_source::route_objects::RouteObject>, Instant)> = None;
            loop {
                let topo = updates.borrow().topology.clone();
                let nexthop = {
                    let s = status.read().unwrap_or_else(|p| p.into_inner());
                    s.ovn
                        .as_ref()
                        .filter(|o| o.role == ovn::desired::ROLE_GATEWAY)
                        .and_then(|o| o.nexthop)
                };
                let want = topo
                    .filter(|t| t.cluster.cni.datapath() == Ok(topology::Datapath::Ovn))
                    .and_then(|t| kube_source::route_objects::wanted(&t, &node, nexthop));
                if let Some(want) = want {
                    let due = last
                        .as_ref()
                        .is_none_or(|(w, next)| *w != want || Instant::now() >= *next);
                    if due {
                        match writer.keep(&want).await {
                            Ok(kept) => {
                                if !kept.changed.is_empty() {
                                    tracing::info!(changed = ?kept.changed, "Submariner route objects updated");
                                }
                                if !kept.left.is_empty() {
                                    tracing::debug!(left = ?kept.left, "route objects routeagent did not write are left alone");
                                }
                                last = Some((want, Instant::now() + Duration::from_secs(30)));
                            }
                            Err(e) => {
                                tracing::warn!(error = %errchain::Chain(&e), "cannot keep the GatewayRoute/NonGatewayRoute objects (retrying in 5 s); Submariner route agents on other nodes may not follow this gateway");
                                last = Some((want, Instant::now() + Duration::from_secs(5)));
                            }
                        }
                    }
                } else {
                    last = None;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }
}

/// The owner reference to pod `name` in `namespace` (`kubectl get pod`).
async fn owner(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<OwnerReference, Box<dyn std::error::Error + Send + Sync>> {
    let pod = kube::Api::<Pod>::namespaced(client.clone(), namespace)
        .get(name)
        .await?;
    let uid = pod.metadata.uid.ok_or("the pod has no uid")?;
    Ok(OwnerReference {
        api_version: "v1".into(),
        kind: "Pod".into(),
        name: name.into(),
        uid,
        ..Default::default()
    })
}

/// The node's RouteAgent as the second home of the sysctl journal.
struct RouteAgentJournal(Arc<StatusWriter>);

impl JournalStore for RouteAgentJournal {
    fn store<'a>(&'a self, journal: &'a SysctlJournal) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if let Err(e) = self.0.store_sysctl_originals(&journal.originals).await {
                tracing::warn!(error = %errchain::Chain(&e), "cannot keep the original sysctl values on the RouteAgent; a replaced pod may not restore them");
            }
        })
    }
}

/// The source's state as the loop's updates: an unhealthy source keeps the
/// last good topology and reports why (the agent turns not-ready).
fn map(mut rx: watch::Receiver<SourceState>) -> watch::Receiver<SourceUpdate> {
    fn update(s: &SourceState) -> SourceUpdate {
        let digest = agent::digest(&serde_json::to_vec(&s.topology).unwrap_or_default());
        let mut error = (!s.healthy).then(|| {
            s.reason
                .clone()
                .unwrap_or_else(|| "the Kubernetes source is unhealthy".into())
        });
        if error.is_none() && !s.warnings.is_empty() {
            tracing::warn!(skipped = ?s.warnings, "objects skipped while building the topology");
        }
        if s.topology.is_none() && error.is_none() {
            error = Some("no topology yet".into());
        }
        SourceUpdate {
            topology: s.topology.clone().map(Arc::new),
            digest,
            error,
        }
    }
    let (tx, out) = watch::channel(update(&rx.borrow()));
    tokio::spawn(async move {
        while rx.changed().await.is_ok() {
            let u = update(&rx.borrow_and_update());
            if tx.send(u).is_err() {
                return;
            }
        }
    });
    out
}

/// The northbound database as `run --source kubernetes` finds it, from the
/// process environment (`OVN_NB_DB`, discovery, the usual sockets; TLS from
/// Secrets, ConfigMaps or files), logged once.
pub async fn nb_config(client: &kube::Client, node: &str) -> ovn::Result<ovn::NbConfig> {
    let c = kube_source::ovn_nb::nb_config(
        client,
        node,
        |k| std::env::var(k).ok(),
        std::path::Path::exists,
    )
    .await?;
    tracing::info!(endpoint = %c.endpoint, origin = %c.origin, tls = ?c.tls_origin(), "OVN northbound database");
    Ok(c)
}
