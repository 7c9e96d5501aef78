//! routeagent's northbound objects against a real OVN northbound database
//! (ovsdb-server with Debian's schema), read back by `ovn-nbctl`.
//! `#[ignore]`d so a plain `cargo test` stays pure; `scripts/test.sh` runs
//! them with `--include-ignored`, and they fail loudly without the tools.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::NbServer;
use ovn::{desired, Desired, Error, NbSync, Remote};
use ovsdb::{Backoff, Session};

const NEEDS: &str = "needs ovsdb-server, ovsdb-tool, ovn-nbctl (scripts/setup.sh)";

fn remote(id: &str, subnets: &[&str]) -> Remote {
    Remote {
        cluster_id: id.into(),
        subnets: subnets.iter().map(|s| s.parse().unwrap()).collect(),
    }
}

fn want(nexthop: &str, remotes: &[Remote]) -> Desired {
    desired(remotes, nexthop.parse().unwrap())
}

fn sync(db: &NbServer) -> NbSync {
    let backoff = Backoff::new(Duration::from_millis(20), Duration::from_millis(100));
    NbSync::with_session(Session::new(db.endpoint(), None).with_backoff(backoff))
}

/// OVN-Kubernetes-like objects, one of them a priority-20000 reroute for a
/// subnet routeagent will also program, without routeagent's mark.
fn seed_foreign(db: &NbServer) {
    let r = "ovn_cluster_router";
    db.nbctl(&[
        "lr-policy-add",
        r,
        "102",
        "ip4.src == 10.128.0.0/14 && ip4.dst == 10.128.0.0/14",
        "allow",
    ]);
    db.nbctl(&[
        "lr-policy-add",
        r,
        "1004",
        "inport == \"rtos-node1\" && ip4.dst == 172.18.0.2 /* node1 */",
        "reroute",
        "10.128.0.2",
    ]);
    db.nbctl(&[
        "lr-policy-add",
        r,
        "20000",
        "ip4.dst == 10.2.0.0/16",
        "reroute",
        "10.128.9.9",
    ]);
    db.nbctl(&["lr-route-add", r, "10.2.0.0/16", "10.128.9.9"]);
    db.nbctl(&[
        "--policy=src-ip",
        "lr-route-add",
        r,
        "10.128.0.0/23",
        "10.128.0.2",
    ]);
}

/// routeagent's rows as `ovn-nbctl` shows them: `priority match nexthops`
/// and `prefix nexthop`, sorted.
fn owned(db: &NbServer) -> (Vec<String>, Vec<String>) {
    let find = |table: &str, cols: &str| {
        let out = db.nbctl(&[
            "--format=csv",
            "--data=bare",
            "--no-headings",
            &format!("--columns={cols}"),
            "find",
            table,
            "external_ids:submariner.io/owner=routeagent",
        ]);
        let mut v: Vec<String> = out.lines().map(|l| l.replace(',', " ")).collect();
        v.sort();
        v
    };
    (
        find("Logical_Router_Policy", "priority,match,nexthops"),
        find("Logical_Router_Static_Route", "ip_prefix,nexthop"),
    )
}

/// Every row without routeagent's mark, all columns, uuids included.
fn foreign(db: &NbServer) -> Vec<String> {
    let mut rows = db.rows("Logical_Router_Policy");
    rows.extend(db.rows("Logical_Router_Static_Route"));
    rows.retain(|r| !r.contains("submariner.io/owner=routeagent"));
    rows
}

#[tokio::test]
#[ignore = "needs ovsdb-server, ovsdb-tool, ovn-nbctl (scripts/setup.sh)"]
async fn remotes_added_changed_removed_leave_ovn_kubernetes_objects_byte_identical() {
    let _ = NEEDS;
    let db = NbServer::start();
    seed_foreign(&db);
    let before = foreign(&db);
    assert_eq!(before.len(), 5, "{before:#?}");
    let mut nb = sync(&db);

    let d = want(
        "10.128.0.2",
        &[
            remote("c2", &["10.2.0.0/16", "100.2.0.0/16"]),
            remote("c3", &["10.3.0.0/16"]),
        ],
    );
    let r = nb.reconcile(&d).await.unwrap();
    assert_eq!((r.added_policies, r.added_routes, r.kept), (3, 3, 0));
    assert_eq!(
        owned(&db),
        (
            vec![
                "20000 ip4.dst == 10.2.0.0/16 10.128.0.2".to_string(),
                "20000 ip4.dst == 10.3.0.0/16 10.128.0.2".into(),
                "20000 ip4.dst == 100.2.0.0/16 10.128.0.2".into(),
            ],
            vec![
                "10.2.0.0/16 10.128.0.2".to_string(),
                "10.3.0.0/16 10.128.0.2".into(),
                "100.2.0.0/16 10.128.0.2".into()
            ],
        )
    );
    assert_eq!(foreign(&db), before);
    // The cluster id rides along.
    let ids = db.nbctl(&[
        "--bare",
        "--columns=external_ids",
        "find",
        "Logical_Router_Policy",
        "match=\"ip4.dst == 10.3.0.0/16\"",
        "external_ids:submariner.io/owner=routeagent",
    ]);
    assert!(ids.contains("submariner.io/remote-cluster=c3"), "{ids}");

    // Converged: a second pass changes nothing.
    let r = nb.reconcile(&d).await.unwrap();
    assert!(!r.changed());
    assert_eq!(r.kept, 6);

    // c2 changes a subnet, c3 leaves.
    let d = want(
        "10.128.0.2",
        &[remote("c2", &["10.2.0.0/16", "100.22.0.0/16"])],
    );
    let r = nb.reconcile(&d).await.unwrap();
    assert_eq!(
        (
            r.added_policies,
            r.removed_policies,
            r.added_routes,
            r.removed_routes,
            r.kept
        ),
        (1, 2, 1, 2, 2)
    );
    assert_eq!(
        owned(&db).0,
        [
            "20000 ip4.dst == 10.2.0.0/16 10.128.0.2",
            "20000 ip4.dst == 100.22.0.0/16 10.128.0.2"
        ]
    );
    assert_eq!(foreign(&db), before);

    // Drift: someone deletes one of ours; the next pass puts it back.
    db.nbctl(&[
        "--if-exists",
        "lr-route-del",
        "ovn_cluster_router",
        "100.22.0.0/16",
        "10.128.0.2",
    ]);
    let r = nb.reconcile(&d).await.unwrap();
    assert_eq!(r.added_routes, 1);
    assert_eq!(
        owned(&db).1,
        ["10.2.0.0/16 10.128.0.2", "100.22.0.0/16 10.128.0.2"]
    );

    // Uninstall: only OVN-Kubernetes' objects remain, untouched.
    let r = nb.remove_all().await.unwrap();
    assert_eq!((r.removed_policies, r.removed_routes), (2, 2));
    assert_eq!(owned(&db), (vec![], vec![]));
    assert_eq!(foreign(&db), before);
}

#[tokio::test]
#[ignore = "needs ovsdb-server, ovsdb-tool, ovn-nbctl (scripts/setup.sh)"]
async fn gateway_move_rewrites_every_next_hop() {
    let db = NbServer::start();
    seed_foreign(&db);
    let before = foreign(&db);
    let remotes = [remote("c2", &["10.2.0.0/16", "100.2.0.0/16"])];
    let mut nb = sync(&db);
    nb.reconcile(&want("10.128.0.2", &remotes)).await.unwrap();
    // The new gateway's agent (another client) takes over.
    let mut other = sync(&db);
    let r = other
        .reconcile(&want("10.128.2.2", &remotes))
        .await
        .unwrap();
    assert_eq!((r.added_policies, r.removed_policies, r.kept), (2, 2, 0));
    let (policies, routes) = owned(&db);
    assert_eq!(
        policies,
        [
            "20000 ip4.dst == 10.2.0.0/16 10.128.2.2",
            "20000 ip4.dst == 100.2.0.0/16 10.128.2.2"
        ]
    );
    assert_eq!(
        routes,
        ["10.2.0.0/16 10.128.2.2", "100.2.0.0/16 10.128.2.2"]
    );
    assert_eq!(foreign(&db), before);
}

#[tokio::test]
#[ignore = "needs ovsdb-server, ovsdb-tool, ovn-nbctl (scripts/setup.sh)"]
async fn database_restarted_under_the_client() {
    let mut db = NbServer::start();
    let mut nb = sync(&db);
    let d1 = want("10.128.0.2", &[remote("c2", &["10.2.0.0/16"])]);
    nb.reconcile(&d1).await.unwrap();
    assert!(nb.is_connected());

    db.stop();
    let e = nb.reconcile(&d1).await.unwrap_err();
    assert!(e.is_unreachable(), "{}", errchain::Chain(&e));
    let text = errchain::Chain(&e).to_string();
    assert!(
        text.starts_with(&format!(
            "OVN northbound database at unix:{}",
            db.path("nb.sock").display()
        )),
        "{text}"
    );
    assert!(!nb.is_connected());

    db.restart();
    // Changed while the database was down: applied once it is back.
    let d2 = want(
        "10.128.0.2",
        &[
            remote("c2", &["10.2.0.0/16"]),
            remote("c4", &["10.4.0.0/16"]),
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    let r = loop {
        match nb.reconcile(&d2).await {
            Ok(r) => break r,
            Err(e) if e.is_unreachable() && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(e) => panic!("{}", errchain::Chain(&e)),
        }
    };
    assert_eq!((r.added_policies, r.kept), (1, 2));
    assert_eq!(
        owned(&db).0,
        [
            "20000 ip4.dst == 10.2.0.0/16 10.128.0.2",
            "20000 ip4.dst == 10.4.0.0/16 10.128.0.2"
        ]
    );
}

#[tokio::test]
#[ignore = "needs ovsdb-server, ovsdb-tool, ovn-nbctl (scripts/setup.sh)"]
async fn refused_transaction_changes_nothing_and_the_connection_stays() {
    let db = NbServer::start();
    seed_foreign(&db);
    let before = foreign(&db);
    let mut nb = sync(&db);
    let good = want("10.128.0.2", &[remote("c2", &["10.2.0.0/16"])]);
    nb.reconcile(&good).await.unwrap();
    // A priority the schema refuses (0..=32767), with a valid route.
    let mut bad = want(
        "10.128.0.2",
        &[
            remote("c2", &["10.2.0.0/16"]),
            remote("c5", &["10.5.0.0/16"]),
        ],
    );
    bad.policies = bad
        .policies
        .into_iter()
        .map(|mut p| {
            p.priority = 40000;
            p
        })
        .collect();
    let e = nb.reconcile(&bad).await.unwrap_err();
    let text = errchain::Chain(&e).to_string();
    assert!(
        matches!(
            &e,
            Error::Db {
                source: ovsdb::Error::Transaction { .. },
                ..
            }
        ),
        "{text}"
    );
    assert!(
        text.contains("insert Logical_Router_Policy): constraint violation"),
        "{text}"
    );
    assert!(!e.is_unreachable());
    assert!(
        nb.is_connected(),
        "a refused transaction keeps the connection"
    );
    // All or nothing: the good objects are still there, the route for c5 was not added.
    assert_eq!(
        owned(&db),
        (
            vec!["20000 ip4.dst == 10.2.0.0/16 10.128.0.2".to_string()],
            vec!["10.2.0.0/16 10.128.0.2".to_string()]
        )
    );
    assert_eq!(foreign(&db), before);
    assert!(!nb.reconcile(&good).await.unwrap().changed());
}

#[tokio::test]
#[ignore = "needs ovsdb-server, ovsdb-tool, ovn-nbctl (scripts/setup.sh)"]
async fn missing_router_is_named() {
    let db = NbServer::start();
    db.nbctl(&["lr-del", "ovn_cluster_router"]);
    let mut nb = sync(&db);
    let e = nb
        .reconcile(&want("10.128.0.2", &[remote("c2", &["10.2.0.0/16"])]))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NoRouter { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("logical router ovn_cluster_router not found"),
        "{e}"
    );
    nb.ping().await.unwrap();
}

#[test]
#[ignore = "needs root, network namespaces, ovsdb-server, ovn-nbctl, openssl"]
fn over_pssl_with_client_certificates() {
    let db = NbServer::start_ssl();
    let ssl = db.ssl.as_ref().unwrap();
    let endpoint = ovsdb::Endpoint::parse(&format!("ssl:127.0.0.1:{}", ssl.port)).unwrap();
    let tls = db.tls();
    let d = want("10.128.0.2", &[remote("c2", &["10.2.0.0/16"])]);
    let (ok, wrong_ca) = ssl.ns.run(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut nb = NbSync::new(endpoint.clone(), Some(Arc::new(tls.clone())));
            let ok = nb
                .reconcile(&d)
                .await
                .map_err(|e| errchain::Chain(&e).to_string());
            // A CA that did not sign the server's certificate: refused, named.
            let mut bad = tls.clone();
            bad.ca = bad.cert.clone();
            let mut nb = NbSync::new(endpoint, Some(Arc::new(bad)));
            let wrong = nb
                .reconcile(&d)
                .await
                .map_err(|e| errchain::Chain(&e).to_string());
            (ok, wrong)
        })
    });
    let r = ok.unwrap();
    assert_eq!((r.added_policies, r.added_routes), (1, 1));
    assert_eq!(owned(&db).0, ["20000 ip4.dst == 10.2.0.0/16 10.128.0.2"]);
    let e = wrong_ca.unwrap_err();
    assert!(e.contains("TLS with ssl:127.0.0.1:6641"), "{e}");
}

#[tokio::test]
#[ignore = "needs ovsdb-server, ovsdb-tool, ovn-nbctl (scripts/setup.sh)"]
async fn monitor_reports_changes_made_by_others() {
    let db = NbServer::start();
    let client = ovsdb::Client::connect(&db.endpoint(), None).await.unwrap();
    let mut updates = client.take_updates().unwrap();
    let initial = client
        .monitor(
            "OVN_Northbound",
            serde_json::json!("routeagent"),
            serde_json::json!({"Logical_Router_Policy": {"columns": ["match", "external_ids"]}}),
        )
        .await
        .unwrap();
    assert_eq!(initial, serde_json::json!({}), "no policies yet");
    db.nbctl(&[
        "lr-policy-add",
        "ovn_cluster_router",
        "1004",
        "ip4.dst == 10.9.0.0/16",
        "allow",
    ]);
    let n = tokio::time::timeout(Duration::from_secs(5), updates.recv())
        .await
        .expect("an update within 5 s")
        .unwrap();
    assert_eq!(n.method, "update");
    assert_eq!(n.params[0], "routeagent");
    let rows = n.params[1]["Logical_Router_Policy"].as_object().unwrap();
    let new = &rows.values().next().unwrap()["new"];
    assert_eq!(new["match"], "ip4.dst == 10.9.0.0/16");
    client.echo().await.unwrap();
}

#[tokio::test]
async fn malformed_select_result_is_named() {
    // A fake server on a unix socket whose select results have no rows.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fake.sock");
    let listener = tokio::net::UnixListener::bind(&path).unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut s, _) = listener.accept().await.unwrap();
        let mut framer = ovsdb::framing::Framer::default();
        let mut buf = [0u8; 4096];
        loop {
            let n = s.read(&mut buf).await.unwrap();
            if n == 0 {
                return;
            }
            for req in framer.push(&buf[..n]).unwrap() {
                let reply = serde_json::json!({"id": req["id"], "result": [{"rows": "none"}, {}, {}], "error": null});
                s.write_all(reply.to_string().as_bytes()).await.unwrap();
            }
        }
    });
    let mut nb = NbSync::new(ovsdb::Endpoint::Unix(path), None);
    let e = nb
        .reconcile(&want("10.128.0.2", &[remote("c2", &["10.2.0.0/16"])]))
        .await
        .unwrap_err();
    let text = errchain::Chain(&e).to_string();
    assert!(
        text.contains("malformed OVSDB message: select result 0 has no rows array"),
        "{text}"
    );
    assert!(!e.is_unreachable());
}

/// Waits until the runner's status satisfies `f`.
async fn wait_status(
    rx: &mut tokio::sync::watch::Receiver<ovn::NbStatus>,
    what: &str,
    f: impl Fn(&ovn::NbStatus) -> bool,
) -> ovn::NbStatus {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = rx.borrow_and_update().clone();
        if f(&s) {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "no {what} status within 10 s: {s:?}"
        );
        let _ = tokio::time::timeout(Duration::from_millis(100), rx.changed()).await;
    }
}

#[tokio::test]
#[ignore = "needs ovsdb-server, ovsdb-tool, ovn-nbctl (scripts/setup.sh)"]
async fn runner_degrades_while_the_database_is_down_and_recovers() {
    let mut db = NbServer::start();
    let d = want(
        "10.128.0.2",
        &[remote("c2", &["10.2.0.0/16", "100.2.0.0/16"])],
    );
    let (want_tx, want_rx) = tokio::sync::watch::channel(Some(d));
    let (status_tx, mut status) = tokio::sync::watch::channel(ovn::NbStatus::new("test"));
    let task = tokio::spawn(ovn::runner::run(
        sync(&db),
        want_rx,
        status_tx,
        Duration::from_millis(200),
        Duration::from_millis(50),
    ));
    let s = wait_status(&mut status, "converged", |s| s.state == "converged").await;
    assert_eq!((s.policies, s.routes, s.changes), (2, 2, 1));

    // Drift: repaired by the periodic resync.
    db.nbctl(&[
        "lr-route-del",
        "ovn_cluster_router",
        "100.2.0.0/16",
        "10.128.0.2",
    ]);
    wait_status(&mut status, "repaired", |s| s.changes == 2).await;
    assert_eq!(owned(&db).1.len(), 2);

    db.stop();
    let s = wait_status(&mut status, "degraded", |s| s.state == "degraded").await;
    let e = s.error.unwrap();
    assert!(e.starts_with("OVN northbound database at unix:"), "{e}");
    assert!(!s.connected);

    db.restart();
    let s = wait_status(&mut status, "converged again", |s| s.state == "converged").await;
    assert!(s.connected && s.error.is_none(), "{s:?}");

    let cfg = ovn::NbConfig::plain(db.endpoint(), "test");
    let p = ovn::doctor::probe(&cfg).await;
    assert!(p.answers && p.router && p.error.is_none(), "{p:?}");
    assert_eq!(p.owned, 4);

    // Not the gateway any more: idle, and the objects stay for the new gateway.
    want_tx.send(None).unwrap();
    wait_status(&mut status, "idle", |s| s.state == "idle").await;
    assert_eq!(owned(&db).0.len(), 2);
    drop(want_tx);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();

    db.stop();
    let p = ovn::doctor::probe(&cfg).await;
    assert!(!p.answers, "{p:?}");
    assert!(p.error.unwrap().contains("cannot connect to OVSDB"));
}

/// With a resync far away, a database that goes away is still seen at
/// once: the runner watches its connection (every `runner::LIVENESS`).
#[tokio::test]
#[ignore = "needs ovsdb-server, ovsdb-tool, ovn-nbctl (scripts/setup.sh)"]
async fn runner_sees_a_lost_connection_before_the_resync() {
    let mut db = NbServer::start();
    let d = want("10.128.0.2", &[remote("c2", &["10.2.0.0/16"])]);
    let (_want_tx, want_rx) = tokio::sync::watch::channel(Some(d));
    let (status_tx, mut status) = tokio::sync::watch::channel(ovn::NbStatus::new("test"));
    let task = tokio::spawn(ovn::runner::run(
        sync(&db),
        want_rx,
        status_tx,
        Duration::from_secs(3600),
        Duration::from_millis(50),
    ));
    wait_status(&mut status, "converged", |s| {
        s.state == "converged" && s.connected
    })
    .await;
    db.stop();
    let s = wait_status(&mut status, "degraded", |s| s.state == "degraded").await;
    assert!(!s.connected, "{s:?}");
    db.restart();
    wait_status(&mut status, "converged again", |s| s.state == "converged").await;
    task.abort();
}
