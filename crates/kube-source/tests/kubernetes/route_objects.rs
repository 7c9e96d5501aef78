//! `GatewayRoute` / `NonGatewayRoute` against the fake API, under the
//! operator's RBAC: created as Submariner's route agent writes them, left
//! alone when unchanged, the Go agent's object of a wanted name adopted,
//! routeagent's stale ones deleted and others' kept.

use crate::common::NS;
use crate::fake::FakeApi;
use kube_source::route_objects::{
    RouteKind, RouteObject, RouteObjects, RoutePolicySpec, MANAGED_BY, OWNER,
};
use serde_json::json;

fn obj(kind: RouteKind, name: &str, hop: &str, cidrs: &[&str]) -> RouteObject {
    RouteObject {
        kind,
        name: name.into(),
        spec: RoutePolicySpec {
            next_hops: vec![hop.into()],
            remote_cidrs: cidrs.iter().map(|c| c.to_string()).collect(),
        },
    }
}

#[tokio::test]
async fn created_adopted_kept_and_only_ours_deleted() {
    let fake = FakeApi::new();
    fake.enforce_operator_rbac();
    // The Go agent's GatewayRoute for cluster-b (stale next hop), and one
    // for a cluster that is gone.
    for name in ["cluster-b", "cluster-old"] {
        fake.put(
            "gatewayroutes",
            json!({"apiVersion": "submariner.io/v1", "kind": "GatewayRoute",
                   "metadata": {"name": name, "namespace": NS},
                   "spec": {"nextHops": ["10.244.9.2"], "remoteCIDRs": ["10.245.0.0/16"]}}),
        );
    }
    let w = RouteObjects::new(fake.client(NS), NS);
    let want = vec![
        obj(
            RouteKind::Gateway,
            "cluster-b",
            "10.244.1.2",
            &["10.245.0.0/16"],
        ),
        obj(
            RouteKind::Gateway,
            "cluster-c",
            "10.244.1.2",
            &["10.246.0.0/16"],
        ),
        obj(
            RouteKind::NonGateway,
            "cluster-b",
            "100.88.0.2",
            &["10.245.0.0/16"],
        ),
    ];
    let kept = w.keep(&want).await.unwrap();
    assert_eq!(
        kept.changed,
        [
            "gatewayroutes/cluster-b",
            "gatewayroutes/cluster-c",
            "nongatewayroutes/cluster-b"
        ]
    );
    assert_eq!(kept.left, ["gatewayroutes/cluster-old"]);
    let b = fake.get("gatewayroutes", NS, "cluster-b").unwrap();
    assert_eq!(
        b["spec"],
        json!({"nextHops": ["10.244.1.2"], "remoteCIDRs": ["10.245.0.0/16"]})
    );
    assert_eq!(b["metadata"]["labels"][MANAGED_BY], OWNER);
    let n = fake.get("nongatewayroutes", NS, "cluster-b").unwrap();
    assert_eq!(n["spec"]["nextHops"], json!(["100.88.0.2"]));

    // Unchanged: no write.
    let kept = w.keep(&want).await.unwrap();
    assert!(kept.changed.is_empty(), "{kept:?}");

    // cluster-c leaves: routeagent's object goes, the Go agent's stays.
    let kept = w.keep(&want[..1]).await.unwrap();
    assert_eq!(
        kept.changed,
        ["gatewayroutes/cluster-c", "nongatewayroutes/cluster-b"]
    );
    assert!(fake.get("gatewayroutes", NS, "cluster-c").is_none());
    assert!(fake.get("gatewayroutes", NS, "cluster-old").is_some());
}

#[tokio::test]
async fn a_refused_write_names_the_object_and_the_rbac_fix() {
    let fake = FakeApi::new();
    fake.fail("POST", "gatewayroutes", 403, 1);
    let w = RouteObjects::new(fake.client(NS), NS);
    let e = w
        .keep(&[obj(
            RouteKind::Gateway,
            "cluster-b",
            "10.244.1.2",
            &["10.245.0.0/16"],
        )])
        .await
        .unwrap_err();
    let text = errchain::Chain(&e).to_string();
    assert!(
        text.contains("cannot create submariner.io gatewayroutes \"cluster-b\"")
            && text.contains("deploy/rbac.yaml"),
        "{text}"
    );
}
