//! The running source: kube-runtime watchers + reflector stores on
//! Submariner Endpoints (in `SUBMARINER_NAMESPACE`) and Nodes, rebuilt into
//! a [`Topology`] on every change and published as [`SourceState`].
//!
//! Failure handling: the watchers keep their stores (the last good
//! topology stays published), retry with exponential backoff, resume from
//! the last resourceVersion and relist on `410 Gone` (kube-runtime's
//! watcher does both). A watcher that keeps failing for longer than
//! [`KubeConfig::grace`] makes the state unhealthy, with the error as reason.
//!
//! A watcher's successful re-watch yields no event, so recovery is seen on
//! the wire instead: the client is wrapped in `Observed`, which reports
//! every successful list/watch response of each resource.

use crate::build::build_topology;
use crate::config::KubeConfig;
use crate::crd::{Endpoint, EndpointSpec};
use errchain::{Chain, Flat};
use futures::future::BoxFuture;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Node;
use kube::runtime::utils::Backoff;
use kube::runtime::{reflector, watcher, WatchStreamExt};
use kube::{Api, Client};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use topology::Topology;
use tracing::{debug, info, warn};

/// What the source publishes: the last good topology and whether it is
/// current.
#[derive(Debug, Clone)]
pub struct SourceState {
    /// The last topology built successfully; `None` until the first one.
    pub topology: Option<Topology>,
    /// False before the first topology, when it cannot be rebuilt, and when
    /// the API has been failing for longer than the grace period.
    pub healthy: bool,
    /// Why not healthy (names the resource, the error and the fix).
    pub reason: Option<String>,
    /// When `healthy` last changed.
    pub since: Instant,
    /// The chosen remote Endpoints' specs, in `topology.remote_clusters`
    /// order (health-check targets, RouteAgent status).
    pub remote_endpoints: Vec<EndpointSpec>,
    /// Objects skipped while building the topology (each names the object).
    pub warnings: Vec<String>,
}

impl SourceState {
    fn initial() -> Self {
        SourceState {
            topology: None,
            healthy: false,
            reason: Some(
                "waiting for the first list of Endpoints and Nodes from the Kubernetes API".into(),
            ),
            since: Instant::now(),
            remote_endpoints: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

/// The two watched resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Res {
    Endpoints = 0,
    Nodes = 1,
}

impl Res {
    fn what(self) -> &'static str {
        match self {
            Res::Endpoints => "submariner.io Endpoints",
            Res::Nodes => "Nodes",
        }
    }
}

/// A [`Client`] wrapper (a tower service) that reports successful
/// list/watch responses of Endpoints and Nodes on a channel.
#[derive(Clone)]
struct Observed {
    inner: Client,
    tx: mpsc::UnboundedSender<Res>,
}

impl tower::Service<http::Request<kube::client::Body>> for Observed {
    type Response = http::Response<kube::client::Body>;
    type Error = kube::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<kube::client::Body>) -> Self::Future {
        let path = req.uri().path();
        let res = if req.method() != http::Method::GET {
            None
        } else if path.ends_with("/nodes") {
            Some(Res::Nodes)
        } else if path.ends_with("/endpoints") && path.contains("submariner.io") {
            Some(Res::Endpoints)
        } else {
            None
        };
        let (inner, tx) = (self.inner.clone(), self.tx.clone());
        Box::pin(async move {
            let r = inner.send(req).await;
            if let (Ok(resp), Some(res)) = (&r, res) {
                if resp.status().is_success() {
                    let _ = tx.send(res);
                }
            }
            r
        })
    }
}

/// Exponential backoff without jitter: `min`, 2×`min`, ... capped at `max`.
struct ExpBackoff {
    min: Duration,
    max: Duration,
    next: Duration,
}

impl Iterator for ExpBackoff {
    type Item = Duration;
    fn next(&mut self) -> Option<Duration> {
        let d = self.next;
        self.next = (self.next * 2).min(self.max);
        Some(d)
    }
}

impl Backoff for ExpBackoff {
    fn reset(&mut self) {
        self.next = self.min;
    }
}

/// Starts watching; returns the state channel and the task. Must be called
/// inside a Tokio runtime. The task runs until aborted.
pub fn start(client: Client, cfg: KubeConfig) -> (watch::Receiver<SourceState>, JoinHandle<()>) {
    let (tx, rx) = watch::channel(SourceState::initial());
    let handle = tokio::spawn(run(client, cfg, tx));
    (rx, handle)
}

/// One watcher's recent failure.
struct Failing {
    since: Instant,
    error: String,
}

async fn run(client: Client, cfg: KubeConfig, tx: watch::Sender<SourceState>) {
    let (sig_tx, mut sig_rx) = mpsc::unbounded_channel();
    let ns = client.default_namespace().to_string();
    let client = Client::new(
        Observed {
            inner: client,
            tx: sig_tx,
        },
        ns,
    );
    let wcfg = watcher::Config::default().timeout(cfg.watch_timeout_seconds);
    let backoff = || ExpBackoff {
        min: cfg.retry_min,
        max: cfg.retry_max,
        next: cfg.retry_min,
    };

    let (ep_store, ep_writer) = reflector::store::<Endpoint>();
    let (node_store, node_writer) = reflector::store::<Node>();
    let eps = reflector(
        ep_writer,
        watcher(
            Api::<Endpoint>::namespaced(client.clone(), &cfg.namespace),
            wcfg.clone(),
        ),
    )
    .backoff(backoff())
    .map(|r| {
        (
            Res::Endpoints,
            r.map(|e| matches!(e, watcher::Event::InitDone)),
        )
    });
    // Nodes are big (images, conditions); keep what the topology reads.
    let slim = |n: &mut Node| {
        n.metadata.managed_fields = None;
        if let Some(s) = n.status.as_mut() {
            *s = k8s_openapi::api::core::v1::NodeStatus {
                addresses: s.addresses.take(),
                ..Default::default()
            };
        }
        n.spec = None;
    };
    let nodes = reflector(
        node_writer,
        watcher(Api::<Node>::all(client), wcfg).modify(slim),
    )
    .backoff(backoff())
    .map(|r| (Res::Nodes, r.map(|e| matches!(e, watcher::Event::InitDone))));
    let mut events = futures::stream::select(eps, nodes).boxed();

    let mut ready = [false; 2];
    let mut failing: [Option<Failing>; 2] = [None, None];
    let mut build_error: Option<String> = None;
    let mut dirty = false;
    let mut last_warnings: Vec<String> = Vec::new();
    let mut last_notes: Vec<String> = Vec::new();
    let mut tick = tokio::time::interval(
        (cfg.grace / 4).clamp(Duration::from_millis(10), Duration::from_secs(1)),
    );
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    loop {
        tokio::select! {
            ev = events.next() => match ev {
                None => break,
                Some((res, Ok(init_done))) => {
                    failing[res as usize] = None;
                    ready[res as usize] |= init_done;
                    dirty = true;
                }
                Some((res, Err(e))) => {
                    let f = &mut failing[res as usize];
                    match f {
                        None => {
                            warn!(resource = res.what(), error = %e, "Kubernetes API watch failed; retrying with backoff, keeping the last topology");
                            *f = Some(Failing { since: Instant::now(), error: e.to_string() });
                        }
                        Some(f) => {
                            debug!(resource = res.what(), error = %e, "Kubernetes API watch still failing");
                            f.error = e.to_string();
                        }
                    }
                }
            },
            Some(res) = sig_rx.recv() => {
                if failing[res as usize].take().is_some() {
                    info!(resource = res.what(), "Kubernetes API reachable again");
                }
            }
            _ = tick.tick() => {}
        }

        if dirty && ready.iter().all(|r| *r) {
            dirty = false;
            let built = build_topology(
                &cfg,
                &node_store.state(),
                &ep_store.state(),
                &cfg.node_name,
                &cfg.os_hostname,
            );
            match built {
                Ok(b) => {
                    build_error = None;
                    let warnings: Vec<String> = b.skipped.iter().map(ToString::to_string).collect();
                    if warnings != last_warnings {
                        for w in &warnings {
                            warn!("{w}");
                        }
                        last_warnings.clone_from(&warnings);
                    }
                    if b.notes != last_notes {
                        for n in &b.notes {
                            info!("{n}");
                        }
                        last_notes.clone_from(&b.notes);
                    }
                    tx.send_if_modified(|s| {
                        let changed = s.topology.as_ref() != Some(&b.topology) || s.remote_endpoints != b.remote_endpoints || s.warnings != warnings;
                        if changed {
                            info!(remote_clusters = b.topology.remote_clusters.len(), gateway = ?b.topology.active_gateway().map(|g| &g.hostname), "topology updated from the Kubernetes API");
                            s.topology = Some(b.topology);
                            s.remote_endpoints = b.remote_endpoints;
                            s.warnings = warnings;
                        }
                        changed
                    });
                }
                Err(e) => {
                    let msg = Chain(&e).to_string();
                    if build_error.as_deref() != Some(msg.as_str()) {
                        warn!(error = %msg, "cannot build the topology; keeping the last one");
                    }
                    build_error = Some(msg);
                }
            }
        }

        let now = Instant::now();
        let (healthy, reason) = health(&cfg, now, &ready, &failing, build_error.as_deref());
        tx.send_if_modified(|s| {
            let changed = s.healthy != healthy || s.reason != reason;
            if s.healthy != healthy {
                s.since = now;
            }
            s.healthy = healthy;
            s.reason = reason;
            changed
        });
    }
}

/// The health verdict; see [`SourceState::healthy`].
fn health(
    cfg: &KubeConfig,
    now: Instant,
    ready: &[bool; 2],
    failing: &[Option<Failing>; 2],
    build_error: Option<&str>,
) -> (bool, Option<String>) {
    let describe = |res: Res, f: &Failing| {
        format!(
            "the Kubernetes API has failed for {}s on {} (namespace {}): {}; keeping the last topology and retrying (check the API server, the network and the RBAC of the service account)",
            now.duration_since(f.since).as_secs(),
            res.what(),
            cfg.namespace,
            f.error
        )
    };
    let all = [Res::Endpoints, Res::Nodes];
    if let Some((res, f)) = all.iter().zip(failing).find_map(|(r, f)| {
        f.as_ref()
            .filter(|f| now.duration_since(f.since) >= cfg.grace)
            .map(|f| (*r, f))
    }) {
        return (false, Some(describe(res, f)));
    }
    if !ready.iter().all(|r| *r) {
        let reason = match all
            .iter()
            .zip(failing)
            .find_map(|(r, f)| f.as_ref().map(|f| (*r, f)))
        {
            Some((res, f)) => describe(res, f),
            None => SourceState::initial().reason.unwrap_or_default(),
        };
        return (false, Some(reason));
    }
    match build_error {
        Some(e) => (false, Some(e.to_string())),
        None => (true, None),
    }
}

/// Why no client could be made.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Neither in-cluster variables nor a kubeconfig were usable.
    #[error("cannot configure the Kubernetes client (in a pod: mount the service account token and set KUBERNETES_SERVICE_HOST/PORT; outside a cluster: set KUBECONFIG)")]
    Config(#[source] Flat<kube::config::InferConfigError>),
    /// The configuration could not be turned into a client (TLS, proxy).
    #[error("cannot create the Kubernetes client from its configuration (check the TLS and proxy settings)")]
    Client(#[source] Flat<kube::Error>),
}

/// A client from the in-cluster service account (else `KUBECONFIG`), with
/// `SUBMARINER_NAMESPACE` as default namespace (`kubectl` without
/// `--namespace`).
pub async fn client(cfg: &KubeConfig) -> Result<Client, ClientError> {
    client_in(&cfg.namespace).await
}

/// Like [`client`], with only a default namespace (the init container has
/// no other configuration).
pub async fn client_in(namespace: &str) -> Result<Client, ClientError> {
    let mut c = kube::Config::infer()
        .await
        .map_err(|e| ClientError::Config(Flat(e)))?;
    c.default_namespace = namespace.to_string();
    Client::try_from(c).map_err(|e| ClientError::Client(Flat(e)))
}

/// Returns once Node `name` exists in the API (`kubectl get node NAME`,
/// every `every`), what Submariner's init container waits for with
/// `SUBMARINER_WAITFORNODE=true`. API errors are logged and retried.
pub async fn wait_for_node(client: Client, name: &str, every: Duration) {
    let nodes: Api<Node> = Api::all(client);
    loop {
        match nodes.get_opt(name).await {
            Ok(Some(_)) => {
                info!(node = %name, "the Node exists");
                return;
            }
            Ok(None) => info!(node = %name, "waiting for the Node to exist"),
            Err(e) => {
                warn!(node = %name, error = %Chain(&e), "cannot read the Node; retrying")
            }
        }
        tokio::time::sleep(every).await;
    }
}
