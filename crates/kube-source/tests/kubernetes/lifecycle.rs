//! The RouteAgent's lifecycle: owned by the agent's pod, deleted on a
//! graceful stop and created again at start, and the sysctl originals kept
//! on it (under the operator's Role: get, create, update only) so that a
//! replaced pod or the uninstall pod finds them.

use crate::common::{cfg, NS};
use crate::fake::FakeApi;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube_source::{AgentReport, StatusWriter, SYSCTL_ORIGINALS_ANNOTATION};
use serde_json::json;
use std::collections::BTreeMap;

fn pod(uid: &str) -> OwnerReference {
    OwnerReference {
        api_version: "v1".into(),
        kind: "Pod".into(),
        name: format!("routeagent-{uid}"),
        uid: uid.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn owned_by_the_pod_deleted_on_stop_recreated_at_start() {
    let fake = FakeApi::new();
    fake.use_submariner_routeagent_crd();
    fake.enforce_operator_rbac();
    let w = StatusWriter::new(fake.client(NS), &cfg("worker-1"));
    w.set_owner(pod("uid-1"));
    w.report(&AgentReport::default()).await.unwrap();
    let o = fake.get("routeagents", NS, "worker-1").unwrap();
    assert_eq!(o["metadata"]["ownerReferences"][0]["uid"], json!("uid-1"));
    assert_eq!(o["metadata"]["ownerReferences"][0]["kind"], json!("Pod"));
    assert!(w.delete_on_stop().await.unwrap());
    assert!(fake.get("routeagents", NS, "worker-1").is_none());

    // The next pod: created again, owned by it. A stale object of an
    // earlier pod gets the new owner instead of the old one.
    fake.put(
        "routeagents",
        json!({"metadata": {"name": "worker-1", "namespace": NS,
               "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": "routeagent-old", "uid": "uid-0"}]},
               "status": {"version": "x", "statusFailure": "", "remoteEndpoints": []}}),
    );
    let w2 = StatusWriter::new(fake.client(NS), &cfg("worker-1"));
    w2.set_owner(pod("uid-2"));
    w2.report(&AgentReport::default()).await.unwrap();
    let o = fake.get("routeagents", NS, "worker-1").unwrap();
    assert_eq!(
        o["metadata"]["ownerReferences"],
        json!([{"apiVersion": "v1", "kind": "Pod", "name": "routeagent-uid-2", "uid": "uid-2"}])
    );
    let forbidden: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|l| l.code == 403 && !l.path.ends_with("/status"))
        .collect();
    assert!(forbidden.is_empty(), "{forbidden:?}");
}

#[tokio::test]
async fn sysctl_originals_survive_the_pod_and_keep_the_object() {
    let fake = FakeApi::new();
    fake.use_submariner_routeagent_crd();
    fake.enforce_operator_rbac();
    let w = StatusWriter::new(fake.client(NS), &cfg("worker-1"));
    w.set_owner(pod("uid-1"));
    assert!(w.load_sysctl_originals().await.unwrap().is_empty());
    let originals: BTreeMap<String, String> =
        [("net.ipv4.conf.cni0.rp_filter".to_string(), "1".to_string())].into();
    // Before any status: the object is created to hold them.
    w.store_sysctl_originals(&originals).await.unwrap();
    let o = fake.get("routeagents", NS, "worker-1").unwrap();
    assert_eq!(
        o["metadata"]["annotations"][SYSCTL_ORIGINALS_ANNOTATION],
        json!("{\"net.ipv4.conf.cni0.rp_filter\":\"1\"}")
    );
    assert!(
        o["metadata"].get("ownerReferences").is_none(),
        "no owner while it holds originals (it must outlive the pod)"
    );
    // Status writes keep the annotation.
    w.report(&AgentReport {
        failures: vec!["x".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    let o = fake.get("routeagents", NS, "worker-1").unwrap();
    assert_eq!(o["status"]["statusFailure"], json!("x"));
    assert!(o["metadata"]["annotations"][SYSCTL_ORIGINALS_ANNOTATION].is_string());
    // A graceful stop keeps it; the next pod (or the uninstall pod) reads them.
    assert!(!w.delete_on_stop().await.unwrap());
    let next = StatusWriter::new(fake.client(NS), &cfg("worker-1"));
    assert_eq!(next.load_sysctl_originals().await.unwrap(), originals);
    // Restored (empty): annotation gone, the pod owns the object again.
    next.set_owner(pod("uid-2"));
    next.store_sysctl_originals(&BTreeMap::new()).await.unwrap();
    let o = fake.get("routeagents", NS, "worker-1").unwrap();
    assert!(
        o["metadata"]
            .get("annotations")
            .is_none_or(|a| a.get(SYSCTL_ORIGINALS_ANNOTATION).is_none()),
        "{o}"
    );
    assert_eq!(o["metadata"]["ownerReferences"][0]["uid"], json!("uid-2"));
    assert!(next.delete_on_stop().await.unwrap());
}
