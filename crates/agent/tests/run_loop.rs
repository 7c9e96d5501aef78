//! The whole loop: file source, triggers, status, drift repair, not-ready.
mod common;
use agent::source::{FileSource, TopologySource};
use agent::{Agent, Reconciler, RunOptions, SharedStatus, Status};
use capabilities::NotReady;
use common::*;
use plan::Role;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn wait_for(status: &SharedStatus, what: &str, f: impl Fn(&Status) -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if f(&status.read().unwrap()) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "timed out waiting for {what}: {:#?}",
            status.read().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[test]
fn file_changes_invalid_reloads_and_drift() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("topology.yaml");
        std::fs::write(
            &path,
            topology_yaml(&[("cluster-b", "10.245.0.0/16")], "a1"),
        )
        .unwrap();
        let fake = SharedFake::default();
        let status: SharedStatus = Arc::new(RwLock::new(Status {
            node: "a1".into(),
            ..Default::default()
        }));
        let reconciler = Reconciler::new("a1", Arc::new(FakeHost::default()), None);
        let (_drift_tx, drift) = tokio::sync::mpsc::channel(4);
        let (stop_tx, stop) = tokio::sync::oneshot::channel::<()>();
        let f2 = fake.clone();
        let task = tokio::spawn(agent::run(
            RunOptions {
                verify_every: Duration::from_millis(50),
                ..Default::default()
            },
            Agent {
                reconciler,
                source: FileSource::new(&path).start(),
                make_filter: move || Ok(filter(&f2)),
                drift,
                status: status.clone(),
            },
            async move {
                let _ = stop.await;
            },
        ));
        wait_for(&status, "first convergence", |s| {
            s.converged && s.role == Some(Role::Gateway)
        })
        .await;
        assert_eq!(status.read().unwrap().backend, "fake");

        // A topology change is picked up (inotify), and only the sets change.
        std::fs::write(
            &path,
            topology_yaml(
                &[
                    ("cluster-b", "10.245.0.0/16"),
                    ("cluster-c", "10.246.0.0/16"),
                ],
                "a1",
            ),
        )
        .unwrap();
        let digest = agent::digest(&std::fs::read(&path).unwrap());
        wait_for(&status, "second topology", |s| {
            s.converged && s.config_digest == digest
        })
        .await;
        assert!(fake.0.dump().contains("10.246.0.0/16"));

        // An invalid reload keeps the last good state and says why.
        let good = fake.0.dump();
        std::fs::write(&path, "cluster: {id: x, clusterCIDRs: [10.0.0.0/33]}\n").unwrap();
        let bad = agent::digest(&std::fs::read(&path).unwrap());
        wait_for(&status, "refused reload", |s| {
            s.config_digest == bad && !s.errors.is_empty()
        })
        .await;
        let s = status.read().unwrap().clone();
        assert!(!s.converged && s.ready, "{s:#?}");
        assert!(
            s.errors[0].contains("keeping the last good topology"),
            "{:?}",
            s.errors
        );
        assert_eq!(fake.0.dump(), good, "the last good state stays programmed");

        // Back to a valid file, then delete the table behind the agent's back.
        std::fs::write(
            &path,
            topology_yaml(&[("cluster-b", "10.245.0.0/16")], "a1"),
        )
        .unwrap();
        let digest = agent::digest(&std::fs::read(&path).unwrap());
        wait_for(&status, "recovery", |s| {
            s.converged && s.config_digest == digest
        })
        .await;
        fake.0.tamper(|t| t.clear());
        let took = wait_for(&status, "drift repair", |_| {
            fake.0.dump().contains("routeagent")
        })
        .await;
        assert!(took < Duration::from_secs(1), "repaired in {took:?}");
        wait_for(&status, "repair counted", |s| s.counters.repairs.get() >= 1).await;
        let _ = stop_tx.send(());
        task.await.unwrap();
    });
}

#[test]
fn no_backend_means_not_ready_and_retrying_not_exiting() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.yaml");
        std::fs::write(&path, topology_yaml(&[], "a1")).unwrap();
        let status: SharedStatus = Arc::new(RwLock::new(Status::default()));
        let (_d, drift) = tokio::sync::mpsc::channel(1);
        let (stop_tx, stop) = tokio::sync::oneshot::channel::<()>();
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let c2 = calls.clone();
        let task = tokio::spawn(agent::run(
            RunOptions {
                backend_retry: Duration::from_millis(50),
                ..Default::default()
            },
            Agent {
                reconciler: Reconciler::new("a1", Arc::new(FakeHost::default()), None),
                source: FileSource::new(&path).start(),
                make_filter: move || {
                    c2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    Err(NotReady {
                        reason: "nftables was requested but is unavailable".into(),
                        fix: "use --packet-filter auto".into(),
                    })
                },
                drift,
                status: status.clone(),
            },
            async move {
                let _ = stop.await;
            },
        ));
        wait_for(&status, "retries", |_| {
            calls.load(std::sync::atomic::Ordering::SeqCst) >= 3
        })
        .await;
        let s = status.read().unwrap().clone();
        assert!(!s.ready && !s.converged);
        assert!(
            s.not_ready_reason
                .as_deref()
                .unwrap_or("")
                .contains("unavailable"),
            "{s:#?}"
        );
        let (code, _, body) = agent::http::respond("/readyz", &status, None);
        assert_eq!(code, 503);
        assert!(body.contains("unavailable"));
        let _ = stop_tx.send(());
        task.await.unwrap();
    });
}

#[test]
fn http_endpoints_answer() {
    rt().block_on(async {
        let status: SharedStatus = Arc::new(RwLock::new(Status {
            node: "a1".into(),
            ready: true,
            converged: true,
            backend: "fake".into(),
            ..Default::default()
        }));
        let (addr, _task) =
            agent::http::serve("127.0.0.1:0".parse().unwrap(), status.clone(), None)
                .await
                .unwrap();
        for (path, code, needle) in [
            ("/healthz", 200, "ok"),
            ("/readyz", 200, "ready"),
            ("/status", 200, "\"backend\": \"fake\""),
            ("/metrics", 200, "routeagent_ready{node=\"a1\"} 1"),
            ("/nope", 404, "not found"),
        ] {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
                .await
                .unwrap();
            let mut resp = String::new();
            s.read_to_string(&mut resp).await.unwrap();
            assert!(
                resp.starts_with(&format!("HTTP/1.1 {code}")),
                "{path}: {resp}"
            );
            assert!(resp.contains(needle), "{path}: {resp}");
        }
    });
}
