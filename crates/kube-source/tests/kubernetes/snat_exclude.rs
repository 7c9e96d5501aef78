//! The node annotation `k8s.ovn.org/node-ingress-snat-exclude-subnets`
//! against the fake API: remote subnets added next to others' entries,
//! kept current, and on uninstall only routeagent's entries removed; a
//! malformed value is named and left alone; nodes without patch rights
//! get a clear error.

use crate::common::{node, NS};
use crate::fake::FakeApi;
use ipnet::IpNet;
use kube_source::snat_exclude::{SnatExclude, OWNED_ANNOTATION, SNAT_EXCLUDE_ANNOTATION};
use serde_json::json;

fn nets(v: &[&str]) -> Vec<IpNet> {
    v.iter().map(|s| s.parse().unwrap()).collect()
}

fn annotation(fake: &FakeApi, key: &str) -> Option<String> {
    fake.get("nodes", "", "worker-1").unwrap()["metadata"]["annotations"][key]
        .as_str()
        .map(str::to_string)
}

#[tokio::test]
async fn remote_subnets_added_kept_and_only_ours_removed() {
    let fake = FakeApi::new();
    let mut n = node("worker-1", "192.168.1.20");
    let others = r#"["192.168.9.0/24"]"#;
    n["metadata"]["annotations"] = json!({ SNAT_EXCLUDE_ANNOTATION: others, "other": "x" });
    fake.put("nodes", n);
    let a = SnatExclude::new(fake.client(NS), "worker-1");

    assert!(a
        .keep(&nets(&["10.245.0.0/16", "10.97.0.0/16"]))
        .await
        .unwrap());
    assert_eq!(
        annotation(&fake, SNAT_EXCLUDE_ANNOTATION).as_deref(),
        Some(r#"["192.168.9.0/24","10.245.0.0/16","10.97.0.0/16"]"#)
    );
    assert!(
        !a.keep(&nets(&["10.97.0.0/16", "10.245.0.0/16"]))
            .await
            .unwrap(),
        "no change, no patch"
    );

    // Someone else adds an entry meanwhile; a remote subnet changes.
    let mut n = fake.get("nodes", "", "worker-1").unwrap();
    n["metadata"]["annotations"][SNAT_EXCLUDE_ANNOTATION] =
        json!(r#"["192.168.9.0/24","10.245.0.0/16","10.97.0.0/16","172.16.0.0/12"]"#);
    fake.put("nodes", n);
    assert!(a
        .keep(&nets(&["10.245.0.0/16", "10.98.0.0/16"]))
        .await
        .unwrap());
    assert_eq!(
        annotation(&fake, SNAT_EXCLUDE_ANNOTATION).as_deref(),
        Some(r#"["192.168.9.0/24","10.245.0.0/16","172.16.0.0/12","10.98.0.0/16"]"#)
    );

    // Uninstall: others' entries and annotations as they were.
    assert!(a.keep(&[]).await.unwrap());
    assert_eq!(
        annotation(&fake, SNAT_EXCLUDE_ANNOTATION).as_deref(),
        Some(r#"["192.168.9.0/24","172.16.0.0/12"]"#)
    );
    assert_eq!(annotation(&fake, OWNED_ANNOTATION), None);
    assert_eq!(annotation(&fake, "other").as_deref(), Some("x"));
}

#[tokio::test]
async fn malformed_value_is_left_alone_and_named() {
    let fake = FakeApi::new();
    let mut n = node("worker-1", "192.168.1.20");
    n["metadata"]["annotations"] = json!({ SNAT_EXCLUDE_ANNOTATION: "10.0.0.0/8" });
    fake.put("nodes", n);
    let a = SnatExclude::new(fake.client(NS), "worker-1");
    let e = a.keep(&nets(&["10.245.0.0/16"])).await.unwrap_err();
    let text = errchain::Chain(&e).to_string();
    assert!(
        text.contains("node worker-1: annotation k8s.ovn.org/node-ingress-snat-exclude-subnets is not a JSON list of CIDRs"),
        "{text}"
    );
    assert_eq!(
        annotation(&fake, SNAT_EXCLUDE_ANNOTATION).as_deref(),
        Some("10.0.0.0/8")
    );
}

#[tokio::test]
async fn without_patch_rights_the_error_says_what_to_grant() {
    let fake = FakeApi::new();
    fake.enforce_operator_rbac();
    fake.put("nodes", node("worker-1", "192.168.1.20"));
    let a = SnatExclude::new(fake.client(NS), "worker-1");
    let e = a.keep(&nets(&["10.245.0.0/16"])).await.unwrap_err();
    let text = errchain::Chain(&e).to_string();
    assert!(text.starts_with("cannot patch node worker-1"), "{text}");
    assert_eq!(annotation(&fake, SNAT_EXCLUDE_ANNOTATION), None);
}
