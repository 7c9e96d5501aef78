//! The fake API server's semantics, checked through `kube::Api` (so the
//! scenario tests rest on something that behaves like kube-apiserver).

use crate::common::{endpoint, init_tracing, NS};
use crate::fake::FakeApi;
use futures::{StreamExt, TryStreamExt};
use kube::api::{Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::{Api, ResourceExt};
use kube_source::crd::{Endpoint, RouteAgent, RouteAgentStatus};
use serde_json::json;

fn rv(o: &impl ResourceExt) -> u64 {
    o.resource_version().unwrap().parse().unwrap()
}

#[tokio::test]
async fn resource_versions_uids_generations() {
    init_tracing();
    let fake = FakeApi::new();
    let api: Api<Endpoint> = Api::namespaced(fake.client(NS), NS);
    let e: Endpoint = serde_json::from_value(endpoint(
        "cluster-b",
        "b-gw",
        "172.18.0.5",
        &["10.245.0.0/16"],
    ))
    .unwrap();
    let a = api.create(&PostParams::default(), &e).await.unwrap();
    assert_eq!(a.metadata.generation, Some(1));
    assert!(a.uid().is_some() && a.creation_timestamp().is_some());
    let err = api.create(&PostParams::default(), &e).await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 409 && s.reason == "AlreadyExists"),
        "{err}"
    );

    // Spec change: new resourceVersion, generation 2.
    let mut b = a.clone();
    b.spec.subnets = vec!["10.246.0.0/16".into()];
    let b = api
        .replace(&a.name_any(), &PostParams::default(), &b)
        .await
        .unwrap();
    assert!(rv(&b) > rv(&a));
    assert_eq!(b.metadata.generation, Some(2));
    // Metadata-only change: generation unchanged.
    let mut c = b.clone();
    c.labels_mut().insert("x".into(), "y".into());
    let c = api
        .replace(&a.name_any(), &PostParams::default(), &c)
        .await
        .unwrap();
    assert_eq!(c.metadata.generation, Some(2));
    assert!(rv(&c) > rv(&b));
    // Stale resourceVersion: 409 Conflict.
    let err = api
        .replace(&a.name_any(), &PostParams::default(), &b)
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 409 && s.reason == "Conflict"),
        "{err}"
    );
    // Missing: 404.
    assert!(api.get_opt("nope").await.unwrap().is_none());
    let err = api.get("nope").await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 404),
        "{err}"
    );
    // Merge patch and server-side apply.
    let p = api
        .patch(
            &a.name_any(),
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"subnets": ["10.247.0.0/16"]}})),
        )
        .await
        .unwrap();
    assert_eq!(p.spec.subnets, ["10.247.0.0/16"]);
    assert_eq!(p.spec.hostname, "b-gw", "merge keeps other fields");
    let applied = api
        .patch("applied", &PatchParams::apply("test"), &Patch::Apply(json!({"apiVersion": "submariner.io/v1", "kind": "Endpoint", "metadata": {"name": "applied"}, "spec": {"cluster_id": "x"}})))
        .await
        .unwrap();
    assert_eq!(applied.spec.cluster_id, "x");
    api.delete("applied", &Default::default()).await.unwrap();
    assert!(api.get_opt("applied").await.unwrap().is_none());
}

#[tokio::test]
async fn status_subresource_only_changes_status() {
    init_tracing();
    let fake = FakeApi::new();
    let api: Api<RouteAgent> = Api::namespaced(fake.client(NS), NS);
    let status = RouteAgentStatus {
        version: "1".into(),
        ..Default::default()
    };
    let created = api
        .create(
            &PostParams::default(),
            &RouteAgent::new("n1", NS, status.clone()),
        )
        .await
        .unwrap();
    assert_eq!(
        created.status,
        RouteAgentStatus::default(),
        "status is dropped on create"
    );
    let mut o = created.clone();
    o.status = status.clone();
    o.labels_mut().insert("ignored".into(), "by-status".into());
    let s = api
        .replace_status("n1", &PostParams::default(), &o)
        .await
        .unwrap();
    assert_eq!(s.status, status);
    assert!(
        s.labels().is_empty(),
        "the status subresource ignores metadata changes"
    );
    assert_eq!(
        s.metadata.generation,
        Some(1),
        "status writes do not bump generation"
    );
    let mut o2 = s.clone();
    o2.status.version = "2".into();
    let r = api
        .replace("n1", &PostParams::default(), &o2)
        .await
        .unwrap();
    assert_eq!(r.status.version, "1", "the main resource ignores status");

    fake.set_status_subresource("routeagents", false);
    let err = api
        .replace_status("n1", &PostParams::default(), &r)
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 404),
        "{err}"
    );
    let mut o3 = r.clone();
    o3.status.version = "3".into();
    assert_eq!(
        api.replace("n1", &PostParams::default(), &o3)
            .await
            .unwrap()
            .status
            .version,
        "3"
    );
}

#[tokio::test]
async fn watch_replays_from_a_version_gives_410_after_compaction_and_bookmarks() {
    init_tracing();
    let fake = FakeApi::new();
    let api: Api<Endpoint> = Api::namespaced(fake.client(NS), NS);
    let list = api.list(&Default::default()).await.unwrap();
    let start = list.metadata.resource_version.unwrap();
    fake.put(
        "endpoints",
        endpoint("cluster-b", "b", "172.18.0.5", &["10.245.0.0/16"]),
    );
    fake.put(
        "endpoints",
        endpoint("cluster-c", "c", "172.18.0.6", &["10.246.0.0/16"]),
    );
    let mut w = api
        .watch(&WatchParams::default(), &start)
        .await
        .unwrap()
        .boxed();
    for host in ["b", "c"] {
        match w.try_next().await.unwrap() {
            Some(WatchEvent::Added(e)) => assert_eq!(e.spec.hostname, host),
            other => panic!("expected ADDED {host}, got {other:?}"),
        }
    }
    fake.bookmark();
    match w.try_next().await.unwrap() {
        Some(WatchEvent::Bookmark(b)) => assert_eq!(
            b.metadata.resource_version,
            fake.resource_version().to_string()
        ),
        other => panic!("expected a bookmark, got {other:?}"),
    }
    fake.break_watches();
    assert!(w.try_next().await.unwrap().is_none(), "a broken watch ends");

    fake.compact();
    let mut w = api
        .watch(&WatchParams::default(), &start)
        .await
        .unwrap()
        .boxed();
    match w.try_next().await.unwrap() {
        Some(WatchEvent::Error(e)) => assert_eq!((e.code, e.reason.as_str()), (410, "Expired")),
        other => panic!("expected 410 Gone, got {other:?}"),
    }
    // From the current version: fine.
    let now = fake.resource_version().to_string();
    let mut w = api
        .watch(&WatchParams::default(), &now)
        .await
        .unwrap()
        .boxed();
    fake.delete(
        "endpoints",
        NS,
        "cluster-b-submariner-cable-cluster-b-172-18-0-5",
    );
    assert!(matches!(
        w.try_next().await.unwrap(),
        Some(WatchEvent::Deleted(_))
    ));
}

#[tokio::test]
async fn kinds_by_group_label_selectors_and_scoped_grants() {
    use k8s_openapi::api::core::v1::{Endpoints as CoreEndpoints, Pod, Secret};
    use kube::api::ListParams;
    let fake = crate::common::cluster();
    fake.put(
        "core-endpoints",
        json!({"metadata": {"name": "db", "namespace": NS}}),
    );
    for (name, app) in [("a", "x"), ("b", "y")] {
        fake.put(
            "pods",
            json!({"metadata": {"name": name, "namespace": "ns1", "labels": {"app": app, "tier": "t"}}, "spec": {"containers": []}}),
        );
    }
    let core: Api<CoreEndpoints> = Api::namespaced(fake.client(NS), NS);
    let names: Vec<String> = core
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .iter()
        .map(|e| e.name_any())
        .collect();
    assert_eq!(names, ["db"], "core Endpoints are not Submariner's");
    let subm: Api<Endpoint> = Api::namespaced(fake.client(NS), NS);
    assert_eq!(subm.list(&Default::default()).await.unwrap().items.len(), 1);
    let pods: Api<Pod> = Api::all(fake.client(NS));
    let sel = |s: &'static str| {
        let pods = pods.clone();
        async move {
            let l = pods.list(&ListParams::default().labels(s)).await.unwrap();
            l.items.iter().map(|p| p.name_any()).collect::<Vec<_>>()
        }
    };
    assert_eq!(sel("app=y").await, ["b"]);
    assert_eq!(sel("app=x,tier=t").await, ["a"]);
    assert_eq!(sel("app=z").await, Vec::<String>::new());
    // A Role's rule: that namespace, those names, that verb only.
    fake.grant("", "secrets", &["get"], Some("ns1"), &["s1"]);
    for (ns, name) in [("ns1", "s1"), ("ns1", "s2"), ("ns2", "s1")] {
        fake.put(
            "secrets",
            json!({"metadata": {"name": name, "namespace": ns}}),
        );
    }
    let code = |r: Result<Secret, kube::Error>| match r {
        Ok(_) => 200,
        Err(kube::Error::Api(s)) => s.code,
        Err(e) => panic!("{e}"),
    };
    let get = |ns: &'static str, name: &'static str| {
        let api: Api<Secret> = Api::namespaced(fake.client(NS), ns);
        async move { code(api.get(name).await) }
    };
    assert_eq!(
        (
            get("ns1", "s1").await,
            get("ns1", "s2").await,
            get("ns2", "s1").await
        ),
        (200, 403, 403)
    );
    let list = Api::<Secret>::namespaced(fake.client(NS), "ns1")
        .list(&Default::default())
        .await;
    assert!(
        matches!(list, Err(kube::Error::Api(s)) if s.code == 403),
        "resourceNames do not grant list"
    );
}
