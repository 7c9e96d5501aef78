//! Under Submariner's operator RBAC (the fake answers 403 for what its
//! Role does not grant): the fake's authorization itself, the source, and
//! status writes falling back to whole-object updates on 403.

use crate::common::{cfg, cluster, wait_for, NS};
use crate::fake::FakeApi;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube_source::crd::RouteAgent;
use kube_source::{AgentReport, StatusWriter};
use serde_json::json;

const PATH: &str = "/apis/submariner.io/v1/namespaces/submariner-operator/routeagents";

fn code(e: kube::Error) -> u16 {
    match e {
        kube::Error::Api(s) => s.code,
        other => panic!("not an API error: {other}"),
    }
}

#[tokio::test]
async fn the_fake_forbids_what_the_operator_role_does_not_grant() {
    let fake = cluster();
    fake.enforce_operator_rbac();
    let api: Api<RouteAgent> = Api::namespaced(fake.client(NS), NS);
    let obj = RouteAgent::new("worker-1", NS, Default::default());
    let created = api.create(&PostParams::default(), &obj).await.unwrap();
    assert_eq!(
        code(
            api.replace_status("worker-1", &PostParams::default(), &created)
                .await
                .unwrap_err()
        ),
        403,
        "routeagents/status is not granted"
    );
    let e = api
        .patch(
            "worker-1",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"a": "b"}}})),
        )
        .await
        .unwrap_err();
    match e {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 403);
            assert!(
                s.message.contains("cannot patch resource \"routeagents\""),
                "{}",
                s.message
            );
        }
        other => panic!("{other}"),
    }
    let nodes: Api<k8s_openapi::api::core::v1::Node> = Api::all(fake.client(NS));
    let e = nodes
        .patch(
            "worker-1",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {"a": "b"}}})),
        )
        .await
        .unwrap_err();
    assert_eq!(code(e), 403, "nodes are read-only to the route agent");
    assert!(nodes.get("worker-1").await.is_ok());
    api.replace("worker-1", &PostParams::default(), &created)
        .await
        .unwrap();
    api.delete("worker-1", &Default::default()).await.unwrap();
}

#[tokio::test]
async fn the_source_builds_the_topology_under_the_operator_role() {
    let fake = cluster();
    fake.enforce_operator_rbac();
    let (mut rx, task) = kube_source::start(fake.client(NS), cfg("worker-1"));
    wait_for(&mut rx, 5.0, "first topology", |s| {
        s.healthy && s.topology.is_some()
    })
    .await;
    let forbidden: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|l| l.code == 403)
        .collect();
    assert!(forbidden.is_empty(), "{forbidden:?}");
    task.abort();
}

#[tokio::test]
async fn status_of_an_existing_routeagent_falls_back_to_the_object_on_403() {
    let fake = FakeApi::new();
    fake.use_submariner_routeagent_crd();
    fake.enforce_operator_rbac();
    // Left by a previous pod (or Submariner's route agent).
    fake.put(
        "routeagents",
        json!({"apiVersion": "submariner.io/v1", "kind": "RouteAgent",
               "metadata": {"name": "worker-1", "namespace": NS},
               "status": {"version": "old", "statusFailure": "", "remoteEndpoints": []}}),
    );
    let w = StatusWriter::new(fake.client(NS), &cfg("worker-1"));
    let report = AgentReport {
        backend: "nftables".into(),
        failures: vec!["route 10.245.0.0/16: EEXIST".into()],
        ..Default::default()
    };
    w.report(&report).await.unwrap();
    let o = fake.get("routeagents", NS, "worker-1").unwrap();
    assert_eq!(o["status"]["version"], json!(env!("CARGO_PKG_VERSION")));
    assert_eq!(
        o["status"]["statusFailure"],
        json!("route 10.245.0.0/16: EEXIST")
    );
    let writes: Vec<(String, String, u16)> = fake
        .requests()
        .into_iter()
        .filter(|l| l.method != "GET")
        .map(|l| (l.method, l.path, l.code))
        .collect();
    assert_eq!(
        writes,
        [
            ("PUT".into(), format!("{PATH}/worker-1/status"), 403),
            ("PUT".into(), format!("{PATH}/worker-1"), 200)
        ]
    );
    // From then on the whole object, without trying the subresource again.
    w.report(&AgentReport::default()).await.unwrap();
    let last = fake
        .requests()
        .into_iter()
        .rfind(|l| l.method == "PUT")
        .unwrap();
    assert_eq!(
        (last.path.as_str(), last.code),
        (format!("{PATH}/worker-1").as_str(), 200)
    );
    assert_eq!(
        fake.get("routeagents", NS, "worker-1").unwrap()["status"]["statusFailure"],
        json!("")
    );
    w.delete().await.unwrap();
    assert!(fake.get("routeagents", NS, "worker-1").is_none());
}

#[tokio::test]
async fn wait_for_node_returns_once_the_node_exists() {
    let fake = FakeApi::new();
    fake.enforce_operator_rbac();
    let wait = tokio::spawn(kube_source::wait_for_node(
        fake.client(NS),
        "worker-9",
        std::time::Duration::from_millis(20),
    ));
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(!wait.is_finished(), "no Node yet");
    fake.put("nodes", crate::common::node("worker-9", "192.168.1.99"));
    tokio::time::timeout(std::time::Duration::from_secs(5), wait)
        .await
        .expect("returns once the Node exists")
        .unwrap();
}
