//! `routeagent doctor` against the real kernel, inside a throwaway
//! namespace: what the report says when the agent lacks CAP_NET_ADMIN, the
//! cable it finds, and on the OVN datapath in Kubernetes mode where the
//! northbound endpoint and certificates came from (the kube-source tests'
//! fake API server, served on the namespace's loopback).

mod fake_api;

use netns::NetNs;
use serde_json::json;

#[test]
#[ignore = "needs root and network namespaces"]
fn without_cap_net_admin_the_fix_says_so() {
    // `routeagent doctor --json` run with CAP_NET_ADMIN dropped (setpriv), inside a namespace.
    netns::require_root();
    let ns = NetNs::new("ra-probe").unwrap();
    let exe = env!("CARGO_BIN_EXE_routeagent");
    let out = ns
        .cmd("setpriv")
        .args([
            "--bounding-set",
            "-net_admin",
            "--inh-caps",
            "-net_admin",
            exe,
            "doctor",
            "--json",
        ])
        .output()
        .expect("setpriv (util-linux) is needed for this test");
    let j: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(j["features"]["nftables"]["enabled"], false, "{j:#}");
    assert!(j["features"]["nftables"]["fix"]
        .as_str()
        .unwrap()
        .contains("CAP_NET_ADMIN"));
    assert_eq!(j["features"]["iptables-nft"]["enabled"], false);
    assert!(j["backend"]["chosen"].is_null());
    assert!(
        j["backend"]["not_ready"]["fix"]
            .as_str()
            .unwrap()
            .contains("CAP_NET_ADMIN"),
        "{j:#}"
    );
    assert_eq!(j["exit_code"], 2);
    assert_eq!(out.status.code(), Some(2));
}

/// `doctor --json` names the cable it finds (here Submariner's VXLAN cable
/// and a `submariner` link) and flags the foreign vxlan-tunnel.
#[test]
#[ignore = "needs root and network namespaces"]
fn doctor_reports_the_cable_it_finds() {
    netns::require_root();
    let ns = NetNs::new("ra-doc-cable").unwrap();
    ns.sh(
        "set -e
           ip link add vxlan-tunnel type vxlan id 1000 dstport 4500
           ip link set vxlan-tunnel up
           ip addr add 241.1.0.2/8 dev vxlan-tunnel
           ip route add 10.245.0.0/16 via 241.2.0.1 dev vxlan-tunnel table 100
           ip rule add pref 100 lookup 100
           ip link add submariner type wireguard 2>/dev/null || ip link add submariner type bridge",
    )
    .unwrap();
    let out = ns
        .cmd(env!("CARGO_BIN_EXE_routeagent"))
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    let j: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let c = &j["cable"];
    assert_eq!(c["vxlan_tunnel_ours"], false, "{c:#}");
    assert_eq!(c["foreign_table_100_routes"], 1, "{c:#}");
    assert_eq!(c["foreign_pref_100_rule"], true, "{c:#}");
    assert!(c["submariner_link"].is_string(), "{c:#}");
    assert!(
        c["kind"]
            .as_str()
            .unwrap()
            .contains("Submariner's VXLAN cable"),
        "{c:#}"
    );
    let ids: Vec<&str> = j["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x["id"].as_str())
        .collect();
    assert!(ids.contains(&"foreign-vxlan-tunnel"), "{ids:?}");
}

/// The text report's one exit status line is the process's: on the OVN
/// datapath with a northbound database that does not answer, 1 or more
/// (the probe's own verdict is not printed as an exit status).
#[test]
#[ignore = "needs root and network namespaces"]
fn text_exit_status_is_the_process_s() {
    netns::require_root();
    let ns = NetNs::new("ra-probe").unwrap();
    let out = ns
        .cmd(env!("CARGO_BIN_EXE_routeagent"))
        .args(["doctor", "--network-plugin", "OVNKubernetes"])
        .env("OVN_NB_DB", "unix:/nonexistent/ovnnb_db.sock")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let code = out.status.code().unwrap();
    assert!(code >= 1, "{text}");
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("exit status")).collect();
    assert_eq!(
        lines.last().copied(),
        Some(format!("exit status {code}").as_str()),
        "{text}"
    );
    assert!(text.contains("DOES NOT ANSWER"), "{text}");
    assert_eq!(text.matches("\nexit status ").count(), 1, "{text}");
}

/// `doctor --source kubernetes` on OVN-Kubernetes: the endpoint discovered
/// through the API (OpenShift's rule), the certificates from upstream's
/// default Secret and ConfigMap, and the TLS error naming the object.
#[test]
#[ignore = "needs root and network namespaces"]
fn doctor_in_kubernetes_mode_says_where_the_database_and_certificates_came_from() {
    netns::require_root();
    let ns = NetNs::new("ra-doc-ovn").unwrap();
    let ocp = "openshift-ovn-kubernetes";
    let fake = fake_api::fake::FakeApi::new();
    fake.put(
        "nodes",
        json!({"metadata": {"name": "w1", "annotations": {"k8s.ovn.org/zone-name": "w1"}}, "spec": {}}),
    );
    fake.put("networks", json!({"metadata": {"name": "cluster"}}));
    fake.put(
        "pods",
        json!({"metadata": {"name": "ovnkube-node-1", "namespace": ocp, "labels": {"app": "ovnkube-node"}}, "spec": {"containers": []}}),
    );
    fake.put(
        "services",
        json!({"metadata": {"name": "ovnkube-db", "namespace": ocp}, "spec": {}}),
    );
    let data = |v: &str| k8s_openapi::ByteString(v.as_bytes().to_vec());
    fake.put(
        "secrets",
        json!({"metadata": {"name": "ovn-cert", "namespace": ocp},
               "data": {"tls.crt": data("not a certificate"), "tls.key": data("k")}}),
    );
    fake.put(
        "configmaps",
        json!({"metadata": {"name": "ovn-ca", "namespace": ocp}, "data": {"ca-bundle.crt": "c"}}),
    );
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = fake_api::serve_in(&ns, &fake, dir.path(), "submariner-operator");
    let out = ns
        .cmd(env!("CARGO_BIN_EXE_routeagent"))
        .args(["doctor", "--json", "--network-plugin", "OVNKubernetes"])
        .args(["--source", "kubernetes", "--node", "w1"])
        .env("KUBECONFIG", &kubeconfig)
        .env_remove("OVN_NB_DB")
        .output()
        .unwrap();
    let j: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let nb = &j["ovn_northbound"];
    assert_eq!(
        nb["endpoint"], "ssl:ovnkube-db.openshift-ovn-kubernetes.svc.cluster.local:9641",
        "{j:#}"
    );
    assert!(
        nb["origin"]
            .as_str()
            .unwrap()
            .starts_with("discovered: OpenShift: Service openshift-ovn-kubernetes/ovnkube-db"),
        "{nb:#}"
    );
    assert!(
        nb["tls"]
            .as_str()
            .unwrap()
            .starts_with("cert secret://openshift-ovn-kubernetes/ovn-cert/tls.crt, key secret://openshift-ovn-kubernetes/ovn-cert/tls.key, CA configmap://openshift-ovn-kubernetes/ovn-ca/ca-bundle.crt"),
        "{nb:#}"
    );
    assert_eq!(nb["answers"], false);
    assert!(
        nb["error"]
            .as_str()
            .unwrap()
            .contains("TLS certificate (OVN_CERT) secret://openshift-ovn-kubernetes/ovn-cert/tls.crt: holds no CERTIFICATE block"),
        "{nb:#}"
    );
    assert!(j["exit_code"].as_i64().unwrap() >= 1);
}
