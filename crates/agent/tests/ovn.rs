//! The agent on the OVN-Kubernetes datapath (`cluster.cni:
//! OVNKubernetes`): passes plan with `plan::plan_ovn` (no vx-submariner),
//! the northbound side runs on its own task and its state is in `/status`
//! and `/metrics`; a database that is missing, stopped or restarted
//! degrades only that part. The real-database test runs `ovsdb-server`
//! (helpers shared with the `ovn` crate's tests) and reads back with
//! `ovn-nbctl`.
mod common;
#[path = "../../ovn/tests/common/mod.rs"]
mod nb;

use agent::ovn::OvnSide;
use agent::source::{FileSource, TopologySource};
use agent::{Agent, Reconciler, RunOptions, SharedStatus, Status};
use common::*;
use ovn::NbSync;
use ovsdb::{Backoff, Session};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The deadline of every wait: generous, the machine may be loaded.
const DEADLINE: Duration = Duration::from_secs(30);

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Cluster a on OVN-Kubernetes, gateway `gateway`, remote clusters
/// `remotes` (id, subnet).
fn ovn_yaml(remotes: &[(&str, &str)], gateway: &str) -> String {
    topology_yaml(remotes, gateway).replacen("cluster:\n", "cluster:\n  cni: OVNKubernetes\n", 1)
}

async fn wait_for(status: &SharedStatus, what: &str, f: impl Fn(&Status) -> bool) {
    let start = Instant::now();
    loop {
        if f(&status.read().unwrap()) {
            return;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "timed out waiting for {what}: {:#?}",
            status.read().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A northbound connection that retries quickly (the default backoff
/// grows to 30 s).
fn quick_sync(endpoint: ovsdb::Endpoint) -> NbSync {
    let backoff = Backoff::new(Duration::from_millis(20), Duration::from_millis(200));
    NbSync::with_session(Session::new(endpoint, None).with_backoff(backoff))
}

struct Running {
    status: SharedStatus,
    host: Arc<FakeHost>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

/// Starts the loop for `node` on the topology file `path`, the
/// northbound side over `sync`.
fn start(path: &Path, node: &str, sync: NbSync) -> Running {
    let status = Status::shared(node);
    let host = Arc::new(FakeHost::default());
    let fake = SharedFake::default();
    let side = OvnSide::with_sync(
        sync,
        status.clone(),
        Duration::from_millis(300),
        Duration::from_millis(50),
    );
    let reconciler = Reconciler::new(node, host.clone(), None).with_ovn(side);
    let (_drift_tx, drift) = tokio::sync::mpsc::channel(4);
    let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(agent::run(
        RunOptions::default(),
        Agent {
            reconciler,
            source: FileSource::new(path).start(),
            make_filter: move || Ok(filter(&fake)),
            drift,
            status: status.clone(),
        },
        async move {
            let _ = stop_rx.await;
        },
    ));
    Running {
        status,
        host,
        stop,
        task,
    }
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap();
    }

    fn last_plan(&self) -> plan::HostPlan {
        self.host.plans.lock().unwrap().last().cloned().unwrap()
    }
}

#[test]
fn ovn_datapath_without_a_database_keeps_the_host_side() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.yaml");
        std::fs::write(&path, ovn_yaml(&[("cluster-b", "10.245.0.0/16")], "a1")).unwrap();
        let missing = ovsdb::Endpoint::Unix(dir.path().join("no-such.sock"));
        let r = start(&path, "a1", quick_sync(missing));
        wait_for(&r.status, "host converged, northbound degraded", |s| {
            s.converged && s.ovn.as_ref().is_some_and(|o| o.state == "degraded")
        })
        .await;
        let s = r.status.read().unwrap().clone();
        assert!(s.ready, "{s:#?}");
        assert_eq!(s.datapath, "ovn-kubernetes");
        let nb = s.ovn.clone().unwrap();
        assert!(!nb.connected);
        let e = nb.error.unwrap();
        assert!(
            e.starts_with("OVN northbound database at unix:") && e.contains("no-such.sock"),
            "{e}"
        );
        let m = agent::metrics::encode(&s, None);
        assert!(
            m.contains("routeagent_ovn_northbound_up{node=\"a1\"} 0"),
            "{m}"
        );
        assert!(m.contains("routeagent_datapath_supported{node=\"a1\"} 1"));

        let p = r.last_plan();
        assert!(p.links.iter().all(|l| l.name != "vx-submariner"), "{p:#?}");
        let rules: Vec<String> = p
            .rules
            .iter()
            .map(|r| format!("{} {:?} {:?}", r.pref, r.from, r.to))
            .collect();
        assert!(
            rules.contains(&"150 None Some(10.245.0.0/16)".to_string())
                && rules.contains(&"149 Some(10.245.0.0/16) Some(10.244.0.0/16)".to_string()),
            "{rules:?}"
        );
        assert!(
            p.routes
                .iter()
                .any(|r| r.table == 149 && r.dev == "ovn-k8s-mp0"),
            "{:?}",
            p.routes
        );
        r.stop().await;
    });
}

#[test]
fn a_refused_configuration_is_the_degraded_reason() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.yaml");
        std::fs::write(&path, ovn_yaml(&[("cluster-b", "10.245.0.0/16")], "a2")).unwrap();
        let status = Status::shared("a1");
        let cfg = ovn::NbConfig::from_vars(
            |k| (k == "OVN_NB_DB").then(|| "ssl:ovnkube-db:9641".to_string()),
            |_| false,
        );
        let mut r = Reconciler::new("a1", Arc::new(FakeHost::default()), None)
            .with_ovn(OvnSide::new(cfg, status.clone()));
        let fake = SharedFake::default();
        r.set_filter(filter(&fake));
        let topo = topology::Topology::load(&path).unwrap();
        let out = r.pass(&topo).await;
        assert!(out.converged(), "{:?}", out.error_lines());
        let nb = status.read().unwrap().ovn.clone().unwrap();
        assert_eq!(nb.state, "degraded");
        assert!(
            nb.error.unwrap().starts_with("OVN_CERT: "),
            "the fix is named"
        );
    });
}

#[test]
#[ignore = "needs ovsdb-server, ovsdb-tool, ovn-nbctl (scripts/setup.sh)"]
fn real_database_stopped_and_restarted_under_the_agent() {
    rt().block_on(async {
        let mut db = nb::NbServer::start();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.yaml");
        std::fs::write(&path, ovn_yaml(&[("cluster-b", "10.245.0.0/16")], "a1")).unwrap();
        let r = start(&path, "a1", quick_sync(db.endpoint()));
        let policies = |db: &nb::NbServer| db.nbctl(&["lr-policy-list", "ovn_cluster_router"]);
        wait_for(&r.status, "northbound converged", |s| {
            s.converged && s.ovn.as_ref().is_some_and(|o| o.state == "converged")
        })
        .await;
        let p = policies(&db);
        assert!(
            p.contains("20000")
                && p.contains("ip4.dst == 10.245.0.0/16")
                && p.contains("reroute")
                && p.contains("10.244.1.2"),
            "{p}"
        );

        // Database down: degraded; the host side still follows the topology.
        db.stop();
        wait_for(&r.status, "degraded", |s| {
            s.ovn
                .as_ref()
                .is_some_and(|o| o.state == "degraded" && !o.connected)
        })
        .await;
        std::fs::write(
            &path,
            ovn_yaml(
                &[
                    ("cluster-b", "10.245.0.0/16"),
                    ("cluster-c", "10.246.0.0/16"),
                ],
                "a1",
            ),
        )
        .unwrap();
        let digest = agent::digest(&std::fs::read(&path).unwrap());
        wait_for(&r.status, "host converged on the new topology", |s| {
            s.converged && s.config_digest == digest
        })
        .await;
        assert!(
            r.last_plan()
                .rules
                .iter()
                .any(|x| x.to == Some("10.246.0.0/16".parse().unwrap())),
            "the host side kept working"
        );
        let s = r.status.read().unwrap().clone();
        assert_eq!(s.ovn.as_ref().unwrap().state, "degraded", "{s:#?}");
        assert!(s.ready && s.errors.is_empty(), "{s:#?}");

        // Back: the runner catches up with what changed meanwhile.
        db.restart();
        wait_for(&r.status, "converged again with both remotes", |s| {
            s.ovn
                .as_ref()
                .is_some_and(|o| o.state == "converged" && o.connected && o.policies == 2)
        })
        .await;
        assert!(policies(&db).contains("ip4.dst == 10.246.0.0/16"));
        let m = agent::metrics::encode(&r.status.read().unwrap(), None);
        assert!(
            m.contains("routeagent_ovn_northbound_up{node=\"a1\"} 1"),
            "{m}"
        );

        // The gateway moves away: idle, the objects stay for the new gateway.
        std::fs::write(
            &path,
            ovn_yaml(
                &[
                    ("cluster-b", "10.245.0.0/16"),
                    ("cluster-c", "10.246.0.0/16"),
                ],
                "a2",
            ),
        )
        .unwrap();
        wait_for(&r.status, "idle", |s| {
            s.ovn.as_ref().is_some_and(|o| o.state == "idle")
        })
        .await;
        assert!(policies(&db).contains("ip4.dst == 10.246.0.0/16"));
        r.stop().await;
    });
}
