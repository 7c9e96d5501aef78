//! The RouteAgent status, read back from the fake.

use crate::common::{cfg, endpoint, init_tracing, NS};
use crate::fake::FakeApi;
use kube_source::crd::{ConnectionStatus, EndpointSpec, LatencyRttSpec, TakeoverStatus};
use kube_source::{AgentReport, RemoteHealth, StatusWriter};
use serde_json::json;

fn report() -> AgentReport {
    let spec: EndpointSpec = serde_json::from_value(
        endpoint("cluster-b", "b-gw", "172.18.0.5", &["10.245.0.0/16"])["spec"].clone(),
    )
    .unwrap();
    AgentReport {
        backend: "nftables".into(),
        degraded: vec![(
            "mss-clamp".into(),
            "kernel lacks rt mtu; clamping to a fixed MSS".into(),
        )],
        failures: vec![
            "route 10.245.0.0/16: EEXIST".into(),
            "sysctl rp_filter: EACCES".into(),
        ],
        remote: vec![RemoteHealth {
            spec,
            status: ConnectionStatus::Connected,
            message: String::new(),
            latency: Some(LatencyRttSpec {
                last: "1.5ms".into(),
                min: "1ms".into(),
                average: "1.2ms".into(),
                max: "1.5ms".into(),
                std_dev: "200µs".into(),
            }),
        }],
        takeover: Some(TakeoverStatus {
            found: 12,
            adopted: 3,
            removed: 9,
            kept: 2,
            conflicts: 0,
            errors: vec![],
        }),
    }
}

fn writes(fake: &FakeApi) -> Vec<(String, String, u16)> {
    fake.requests()
        .into_iter()
        .filter(|l| l.method != "GET")
        .map(|l| (l.method, l.path, l.code))
        .collect()
}

const PATH: &str = "/apis/submariner.io/v1/namespaces/submariner-operator/routeagents";

#[tokio::test]
async fn report_creates_one_routeagent_per_node_with_status() {
    init_tracing();
    let fake = FakeApi::new();
    let w = StatusWriter::new(fake.client(NS), &cfg("worker-1"));
    w.report(&report()).await.unwrap();
    let o = fake
        .get("routeagents", NS, "worker-1")
        .expect("RouteAgent named after the node");
    let st = &o["status"];
    assert_eq!(st["version"], json!(env!("CARGO_PKG_VERSION")));
    assert_eq!(
        st["statusFailure"],
        json!("route 10.245.0.0/16: EEXIST; sysctl rp_filter: EACCES")
    );
    assert_eq!(st["backend"], json!("nftables"));
    assert_eq!(
        st["degradedFeatures"],
        json!([{"feature": "mss-clamp", "reason": "kernel lacks rt mtu; clamping to a fixed MSS"}])
    );
    assert_eq!(
        st["takeover"],
        json!({"found": 12, "adopted": 3, "removed": 9, "kept": 2, "conflicts": 0, "errors": []})
    );
    let r = &st["remoteEndpoints"][0];
    assert_eq!(
        (r["status"].as_str(), r["statusMessage"].as_str()),
        (Some("connected"), Some(""))
    );
    assert_eq!(r["spec"]["cluster_id"], json!("cluster-b"));
    assert_eq!(r["spec"]["private_ip"], json!("172.18.0.5"));
    assert_eq!(r["latencyRTT"]["stdDev"], json!("200µs"));
    assert_eq!(
        o["metadata"]["generation"],
        json!(1),
        "status writes leave generation alone"
    );
    assert_eq!(
        writes(&fake),
        [
            ("POST".into(), PATH.into(), 201),
            ("PUT".into(), format!("{PATH}/worker-1/status"), 200)
        ],
        "create, then the status through its subresource"
    );

    // Unchanged: nothing written. Changed: one status PUT.
    w.report(&report()).await.unwrap();
    assert_eq!(writes(&fake).len(), 2);
    let mut r2 = report();
    r2.failures.clear();
    r2.remote[0].status = ConnectionStatus::Error;
    r2.remote[0].message = "Failed to successfully ping".into();
    w.report(&r2).await.unwrap();
    let o = fake.get("routeagents", NS, "worker-1").unwrap();
    assert_eq!(o["status"]["statusFailure"], json!(""));
    assert_eq!(o["status"]["remoteEndpoints"][0]["status"], json!("error"));
    assert_eq!(writes(&fake).len(), 3);
}

#[tokio::test]
async fn submariners_crd_without_status_subresource() {
    init_tracing();
    let fake = FakeApi::new();
    fake.use_submariner_routeagent_crd();
    let w = StatusWriter::new(fake.client(NS), &cfg("worker-1"));
    w.report(&report()).await.unwrap();
    let o = fake.get("routeagents", NS, "worker-1").unwrap();
    assert_eq!(
        o["status"]["version"],
        json!(env!("CARGO_PKG_VERSION")),
        "status written with the object at create"
    );
    assert!(
        o["status"].get("backend").is_none() && o["status"].get("takeover").is_none(),
        "pruned by Submariner's schema"
    );
    // Only routeagent's own (pruned) fields differ: nothing to write.
    let mut r2 = report();
    r2.backend = "iptables".into();
    w.report(&r2).await.unwrap();
    assert_eq!(writes(&fake).len(), 1);
    // A real change: the whole object is written (no status subresource).
    r2.failures = vec!["vx-submariner: EPERM".into()];
    w.report(&r2).await.unwrap();
    let o = fake.get("routeagents", NS, "worker-1").unwrap();
    assert_eq!(o["status"]["statusFailure"], json!("vx-submariner: EPERM"));
    let w2: Vec<(String, String, u16)> = writes(&fake);
    assert_eq!(
        w2,
        [
            ("POST".into(), PATH.into(), 201),
            ("PUT".into(), format!("{PATH}/worker-1"), 200)
        ]
    );

    // Our CRD is applied later (subresource): the writer switches over.
    fake.set_status_subresource("routeagents", true);
    r2.failures.clear();
    w.report(&r2).await.unwrap();
    assert_eq!(
        fake.get("routeagents", NS, "worker-1").unwrap()["status"]["statusFailure"],
        json!("")
    );
    assert_eq!(
        writes(&fake).last().unwrap().1,
        format!("{PATH}/worker-1/status")
    );
}

#[tokio::test]
async fn conflicts_are_retried_with_the_fresh_object() {
    init_tracing();
    let fake = FakeApi::new();
    let w = StatusWriter::new(fake.client(NS), &cfg("worker-1"));
    w.report(&AgentReport::default()).await.unwrap();
    fake.fail("PUT", "/routeagents/worker-1/status", 409, 2);
    w.report(&report()).await.unwrap();
    let codes: Vec<u16> = writes(&fake).into_iter().map(|w| w.2).collect();
    assert_eq!(codes, [201, 200, 409, 409, 200]);
    assert_eq!(
        fake.get("routeagents", NS, "worker-1").unwrap()["status"]["backend"],
        json!("nftables")
    );
    // Conflicting on every try: an error naming the object.
    fake.fail("PUT", "/status", 409, 10);
    let err = w
        .report(&AgentReport {
            backend: "iptables".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("worker-1"), "{err}");
}

#[tokio::test]
async fn delete_on_uninstall() {
    init_tracing();
    let fake = FakeApi::new();
    let w = StatusWriter::new(fake.client(NS), &cfg("worker-1"));
    w.report(&report()).await.unwrap();
    w.delete().await.unwrap();
    assert!(fake.get("routeagents", NS, "worker-1").is_none());
    w.delete().await.unwrap();
    fake.set_down(true);
    let err = w.report(&report()).await.unwrap_err().to_string();
    assert!(
        err.contains("RouteAgent submariner-operator/worker-1") && err.contains("routeagents"),
        "{err}"
    );
}
