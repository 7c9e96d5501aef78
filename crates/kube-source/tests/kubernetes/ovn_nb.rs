//! The OVN northbound database found through the API (discovery rules,
//! certificates from a Secret and a ConfigMap, re-read per connection
//! attempt), under the RBAC of deploy/rbac.yaml's neighbours
//! deploy/rbac-ovn.yaml and deploy/rbac-ovn-openshift.yaml as the fake
//! enforces them, and the errors that name the object and the fix.

use crate::common::{cluster, NS};
use crate::fake::FakeApi;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::ByteString;
use kube_source::ovn_nb::{facts, nb_config};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

const OCP: &str = "openshift-ovn-kubernetes";

/// The rules of a deploy/ manifest as grants of the fake (Role rules in
/// the Role's namespace, ClusterRole rules everywhere).
fn grant_manifest(fake: &FakeApi, file: &str) {
    let text = std::fs::read_to_string(format!(
        "{}/../../deploy/{file}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    for doc in serde_yaml::Deserializer::from_str(&text) {
        let d: Value = serde::Deserialize::deserialize(doc).unwrap();
        let ns = match d["kind"].as_str() {
            Some("Role") => d["metadata"]["namespace"].as_str(),
            Some("ClusterRole") => None,
            _ => continue,
        };
        for rule in d["rules"].as_array().unwrap() {
            let list = |k: &str| -> Vec<String> {
                rule[k]
                    .as_array()
                    .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
                    .unwrap_or_default()
            };
            let names = list("resourceNames");
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let verbs = list("verbs");
            let verbs: Vec<&str> = verbs.iter().map(String::as_str).collect();
            for g in list("apiGroups") {
                for r in list("resources") {
                    fake.grant(&g, &r, &verbs, ns, &names);
                }
            }
        }
    }
}

fn pod(ns: &str, name: &str, label: (&str, &str)) -> Value {
    json!({"metadata": {"name": name, "namespace": ns, "labels": {label.0: label.1}}, "spec": {"containers": []}})
}

fn secret(ns: &str, name: &str, data: &[(&str, &str)]) -> Value {
    let s = Secret {
        metadata: kube::api::ObjectMeta {
            name: Some(name.into()),
            namespace: Some(ns.into()),
            ..Default::default()
        },
        data: Some(
            data.iter()
                .map(|(k, v)| (k.to_string(), ByteString(v.as_bytes().to_vec())))
                .collect::<BTreeMap<_, _>>(),
        ),
        ..Default::default()
    };
    serde_json::to_value(s).unwrap()
}

/// A fake OpenShift: zone-annotated worker-1, the Network `cluster`,
/// ovnkube-node and the ovnkube-db Service, the certificate objects; the
/// operator's RBAC plus the two OVN manifests.
fn openshift() -> FakeApi {
    let fake = cluster();
    let mut n = fake.get("nodes", "", "worker-1").unwrap();
    n["metadata"]["annotations"] = json!({"k8s.ovn.org/zone-name": "worker-1"});
    fake.put("nodes", n);
    fake.put(
        "networks",
        json!({"metadata": {"name": "cluster"}, "spec": {"networkType": "OVNKubernetes"}}),
    );
    fake.put(
        "pods",
        pod(OCP, "ovnkube-node-abc", ("app", "ovnkube-node")),
    );
    fake.put(
        "services",
        json!({"metadata": {"name": "ovnkube-db", "namespace": OCP}, "spec": {}}),
    );
    fake.put(
        "secrets",
        secret(
            OCP,
            "ovn-cert",
            &[("tls.crt", "CERT-1"), ("tls.key", "KEY-1")],
        ),
    );
    fake.put(
        "configmaps",
        json!({"metadata": {"name": "ovn-ca", "namespace": OCP}, "data": {"ca-bundle.crt": "CA-1"}}),
    );
    fake.enforce_operator_rbac();
    grant_manifest(&fake, "rbac-ovn.yaml");
    grant_manifest(&fake, "rbac-ovn-openshift.yaml");
    fake
}

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let m: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| m.get(k).cloned()
}

fn none(_: &Path) -> bool {
    false
}

fn forbidden(fake: &FakeApi) -> Vec<String> {
    fake.requests()
        .into_iter()
        .filter(|l| l.code == 403)
        .map(|l| format!("{} {}", l.method, l.path))
        .collect()
}

#[tokio::test]
async fn openshift_service_and_certificates_reread_per_attempt() {
    let fake = openshift();
    let c = nb_config(&fake.client(NS), "worker-1", env(&[]), none)
        .await
        .unwrap();
    assert_eq!(
        c.endpoint.to_string(),
        "ssl:ovnkube-db.openshift-ovn-kubernetes.svc.cluster.local:9641"
    );
    assert!(
        c.origin
            .starts_with("discovered: OpenShift: Service openshift-ovn-kubernetes/ovnkube-db"),
        "{}",
        c.origin
    );
    assert_eq!(
        c.tls_origin().unwrap(),
        "cert secret://openshift-ovn-kubernetes/ovn-cert/tls.crt, key secret://openshift-ovn-kubernetes/ovn-cert/tls.key, CA configmap://openshift-ovn-kubernetes/ovn-ca/ca-bundle.crt (OVN_CERT, OVN_PK, OVN_CA unset: upstream's defaults)"
    );
    let tls = c.tls.unwrap();
    let pem = tls.load().await.unwrap();
    assert_eq!(
        (&pem.cert.bytes[..], &pem.key.bytes[..], &pem.ca.bytes[..]),
        (&b"CERT-1"[..], &b"KEY-1"[..], &b"CA-1"[..])
    );
    assert_eq!(pem.server_name, "ovn");
    // OpenShift rotates the certificate: the next attempt reads the new one.
    fake.put(
        "secrets",
        secret(
            OCP,
            "ovn-cert",
            &[("tls.crt", "CERT-2"), ("tls.key", "KEY-2")],
        ),
    );
    let pem = tls.load().await.unwrap();
    assert_eq!(pem.cert.bytes, b"CERT-2");
    assert_eq!(pem.key.bytes, b"KEY-2");
    assert_eq!(
        forbidden(&fake),
        Vec::<String>::new(),
        "the manifests grant every read"
    );

    // Without the Service: the interconnect socket, no TLS.
    assert!(fake.delete("services", OCP, "ovnkube-db"));
    let c = nb_config(&fake.client(NS), "worker-1", env(&[]), none)
        .await
        .unwrap();
    assert_eq!(c.endpoint.to_string(), "unix:/var/run/ovn-ic/ovnnb_db.sock");
    assert!(c.tls.is_none());
    assert_eq!(forbidden(&fake), Vec::<String>::new());
}

#[tokio::test]
async fn upstream_rules_in_order_then_the_sockets() {
    let fake = openshift();
    assert!(fake.delete("networks", "", "cluster"));
    fake.delete("pods", OCP, "ovnkube-node-abc");
    let client = fake.client(NS);
    fake.put(
        "pods",
        pod("ovn-kubernetes", "ovnkube-node-x", ("app", "ovnkube-node")),
    );
    fake.put(
        "pods",
        pod("ovn-kubernetes", "ovnkube-db-0", ("name", "ovnkube-db")),
    );
    let f = facts(&client, "worker-1", true).await.unwrap();
    assert_eq!(f.db_pod_namespace.as_deref(), Some("ovn-kubernetes"));
    assert!(!f.openshift);
    let ep = |vars: &'static [(&'static str, &'static str)]| {
        let client = client.clone();
        async move {
            nb_config(&client, "worker-1", env(vars), none)
                .await
                .unwrap()
                .endpoint
                .to_string()
        }
    };
    assert_eq!(ep(&[]).await, "ssl:ovnkube-db.ovn-kubernetes:6641");
    assert_eq!(
        ep(&[("OVN_SSL_ENABLE", "no")]).await,
        "tcp:ovnkube-db.ovn-kubernetes:6641"
    );
    // Interconnect: no database pods; the zone's Endpoints with a north port.
    fake.delete("pods", "ovn-kubernetes", "ovnkube-db-0");
    let endpoints = |name: &str, port: &str, ip: &str| {
        json!({"metadata": {"name": name, "namespace": "ovn-kubernetes"},
               "subsets": [{"addresses": [{"ip": ip}], "ports": [{"name": port, "port": 6641, "protocol": "TCP"}]}]})
    };
    fake.put(
        "core-endpoints",
        endpoints("ovnkube-db-worker-2", "north", "10.0.0.8"),
    );
    fake.put(
        "core-endpoints",
        endpoints("ovnkube-db-worker-1", "south", "10.0.0.6"),
    );
    fake.put(
        "core-endpoints",
        endpoints("ovnkube-db-worker-1-nb", "north", "10.0.0.7"),
    );
    assert_eq!(ep(&[]).await, "tcp:10.0.0.7:6641");
    fake.delete("core-endpoints", "ovn-kubernetes", "ovnkube-db-worker-1-nb");
    let c = nb_config(&client, "worker-1", env(&[]), none)
        .await
        .unwrap();
    assert_eq!(
        c.endpoint.to_string(),
        "unix:/var/run/openvswitch/ovnnb_db.sock"
    );
    assert!(
        c.origin.starts_with("no discovery rule matched"),
        "{}",
        c.origin
    );
    // Submariner's Endpoints (same plural, other group) were never listed.
    assert_eq!(forbidden(&fake), Vec::<String>::new());

    // OVN_NB_DB set: no discovery request at all.
    let before = fake.requests().len();
    assert_eq!(
        ep(&[("OVN_NB_DB", "tcp:10.1.1.1:6641")]).await,
        "tcp:10.1.1.1:6641"
    );
    assert_eq!(fake.requests().len(), before);
}

#[tokio::test]
async fn errors_name_the_variable_the_object_and_the_fix() {
    // Discovery without deploy/rbac-ovn.yaml: the rule to add.
    let fake = cluster();
    fake.enforce_operator_rbac();
    let e = nb_config(&fake.client(NS), "worker-1", env(&[]), none)
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "OVN_NB_DB: unset, and discovery through the Kubernetes API failed: get networks.config.openshift.io cluster: forbidden; grant the service account get on networks.config.openshift.io (deploy/rbac-ovn.yaml); or set OVN_NB_DB"
    );

    let fake = openshift();
    let client = fake.client(NS);
    let load = |vars: &'static [(&'static str, &'static str)]| {
        let client = client.clone();
        async move {
            let c = nb_config(&client, "worker-1", env(vars), none).await?;
            let tls = c.tls.expect("ssl: has TLS");
            tls.load()
                .await
                .map(|_| ())
                .map_err(|e| ovn::Error::Config {
                    var: "load",
                    reason: e.to_string(),
                })
        }
    };
    let err = |r: ovn::Result<()>| r.unwrap_err().to_string();
    let e = err(load(&[(
        "OVN_PK",
        "secret://openshift-ovn-kubernetes/ovn-cert/tls.pem",
    )])
    .await);
    assert!(
        e.ends_with("TLS private key (OVN_PK) secret://openshift-ovn-kubernetes/ovn-cert/tls.pem: Secret openshift-ovn-kubernetes/ovn-cert has no key tls.pem (it has: tls.crt, tls.key); fix OVN_PK"),
        "{e}"
    );
    let e = err(load(&[(
        "OVN_CA",
        "configmap://openshift-ovn-kubernetes/other-ca/ca.crt",
    )])
    .await);
    assert!(
        e.contains("forbidden; grant the service account get on configmaps other-ca in namespace openshift-ovn-kubernetes"),
        "{e}"
    );
    fake.delete("secrets", OCP, "ovn-cert");
    let e = err(load(&[]).await);
    assert!(
        e.ends_with("TLS certificate (OVN_CERT) secret://openshift-ovn-kubernetes/ovn-cert/tls.crt: Secret openshift-ovn-kubernetes/ovn-cert not found; create it, or set OVN_CERT to the right secret://, configmap:// or file path"),
        "{e}"
    );
    let e = err(load(&[("OVN_CERT", "secret://x")]).await);
    assert_eq!(
        e,
        "OVN_CERT: \"secret://x\": expected secret://NAMESPACE/NAME/KEY"
    );
    // A file, as in file mode.
    let e = err(load(&[("OVN_CERT", "file:///nonexistent/cert.pem")]).await);
    assert!(
        e.contains("TLS certificate (OVN_CERT) /nonexistent/cert.pem: cannot read it"),
        "{e}"
    );
}
