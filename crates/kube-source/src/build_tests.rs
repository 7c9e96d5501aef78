//! Unit tests of [`crate::build_topology`].

use crate::build::{build_topology, BuildError, MSS_ANNOTATION};
use crate::config::KubeConfig;
use crate::crd::{Endpoint, EndpointSpec};
use k8s_openapi::api::core::v1::{Node, NodeAddress, NodeStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use std::collections::BTreeMap;

fn cfg() -> KubeConfig {
    let m: BTreeMap<&str, &str> = [
        ("SUBMARINER_NAMESPACE", "submariner-operator"),
        ("SUBMARINER_CLUSTERID", "cluster-a"),
        ("SUBMARINER_CLUSTERCIDR", "10.244.0.0/16"),
        ("SUBMARINER_SERVICECIDR", "10.96.0.0/16"),
        ("NODE_NAME", "worker-1"),
    ]
    .into_iter()
    .collect();
    KubeConfig::from_lookup(|k| m.get(k).map(|v| v.to_string())).unwrap()
}

fn node(name: &str, ip: &str) -> Node {
    Node {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        status: Some(NodeStatus {
            addresses: Some(vec![
                NodeAddress {
                    type_: "Hostname".into(),
                    address: name.into(),
                },
                NodeAddress {
                    type_: "InternalIP".into(),
                    address: ip.into(),
                },
            ]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn ts(secs: i64) -> Time {
    Time(k8s_openapi::jiff::Timestamp::from_second(1_700_000_000 + secs).unwrap())
}

fn ep(name: &str, cluster: &str, host: &str, ip: &str, subnets: &[&str], created: i64) -> Endpoint {
    let mut e = Endpoint::new(
        name,
        EndpointSpec {
            cluster_id: cluster.into(),
            cable_name: format!("submariner-cable-{cluster}-{}", ip.replace('.', "-")),
            hostname: host.into(),
            private_ip: ip.into(),
            subnets: subnets.iter().map(|s| s.to_string()).collect(),
            backend: "libreswan".into(),
            health_check_ip: format!("10.{}.0.1", 100 + created),
            ..Default::default()
        },
    );
    e.metadata.creation_timestamp = Some(ts(created));
    e.metadata.namespace = Some("submariner-operator".into());
    e
}

fn nodes() -> Vec<Node> {
    vec![
        node("gw-1", "192.168.1.10"),
        node("gw-2", "192.168.1.11"),
        node("worker-1", "192.168.1.20"),
    ]
}

#[test]
fn worker_follows_the_newest_local_endpoint_and_newest_remote_wins() {
    let eps = vec![
        ep(
            "a-gw-1",
            "cluster-a",
            "gw-1",
            "192.168.1.10",
            &["10.244.0.0/16"],
            1,
        ),
        ep(
            "a-gw-2",
            "cluster-a",
            "gw-2",
            "192.168.1.11",
            &["10.244.0.0/16"],
            5,
        ),
        ep(
            "b-old",
            "cluster-b",
            "b-gw-1",
            "172.18.0.5",
            &["10.245.0.0/16"],
            2,
        ),
        ep(
            "b-new",
            "cluster-b",
            "b-gw-2",
            "172.18.0.6",
            &["10.246.0.0/16", "10.97.0.0/16"],
            3,
        ),
    ];
    let b = build_topology(&cfg(), &nodes(), &eps, "worker-1", "worker-1").unwrap();
    let t = &b.topology;
    assert_eq!(
        t.active_gateway().unwrap().hostname,
        "gw-2",
        "newest local endpoint is active"
    );
    assert_eq!(t.cluster.gateways.len(), 2);
    assert!(!t.is_gateway("worker-1"));
    assert_eq!(t.remote_clusters.len(), 1);
    let r = &t.remote_clusters[0];
    assert_eq!(r.gateway.private_ip.to_string(), "172.18.0.6");
    assert_eq!(
        r.subnets.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        ["10.246.0.0/16", "10.97.0.0/16"]
    );
    assert_eq!(b.remote_endpoints[0].hostname, "b-gw-2");
    assert!(b.skipped.is_empty(), "{:?}", b.skipped);
    assert!(b.notes.iter().any(|n| n.contains("b-old")), "{:?}", b.notes);
}

#[test]
fn this_nodes_endpoint_is_active_even_when_older_and_matched_by_os_hostname() {
    let eps = vec![
        ep(
            "mine",
            "cluster-a",
            "gw-1.example.internal",
            "192.168.1.10",
            &[],
            1,
        ),
        ep("other", "cluster-a", "gw-2", "192.168.1.11", &[], 9),
    ];
    // NODE_NAME gw-1, OS host name gw-1.example.internal (issue #736).
    let b = build_topology(&cfg(), &nodes(), &eps, "gw-1", "gw-1.example.internal").unwrap();
    assert_eq!(b.topology.active_gateway().unwrap().hostname, "gw-1");
    assert!(b.topology.is_gateway("gw-1"));
    assert!(
        b.notes
            .iter()
            .any(|n| n.contains("differs from the OS host name")),
        "{:?}",
        b.notes
    );
}

#[test]
fn gateway_moving_between_nodes() {
    let before = vec![ep("gw-1", "cluster-a", "gw-1", "192.168.1.10", &[], 1)];
    let after = vec![ep("gw-2", "cluster-a", "gw-2", "192.168.1.11", &[], 2)];
    for (eps, gw) in [(&before, "gw-1"), (&after, "gw-2")] {
        for me in ["gw-1", "gw-2", "worker-1"] {
            let t = build_topology(&cfg(), &nodes(), eps, me, me)
                .unwrap()
                .topology;
            assert_eq!(t.active_gateway().unwrap().hostname, gw);
            assert_eq!(t.is_gateway(me), me == gw, "node {me}");
        }
    }
}

#[test]
fn invalid_endpoint_is_skipped_and_named_others_kept() {
    let eps = vec![
        ep(
            "b",
            "cluster-b",
            "b-gw",
            "172.18.0.5",
            &["10.245.0.0/16"],
            1,
        ),
        ep(
            "c-bad",
            "cluster-c",
            "c-gw",
            "172.18.0.7",
            &["10.300.0.0/16"],
            1,
        ),
        ep(
            "d-hostbits",
            "cluster-d",
            "d-gw",
            "172.18.0.8",
            &["10.247.0.1/16"],
            1,
        ),
        ep(
            "e-noip",
            "cluster-e",
            "e-gw",
            "not-an-ip",
            &["10.248.0.0/16"],
            1,
        ),
        ep(
            "f-overlap",
            "cluster-f",
            "f-gw",
            "172.18.0.9",
            &["10.244.128.0/17"],
            1,
        ),
    ];
    let b = build_topology(&cfg(), &nodes(), &eps, "worker-1", "worker-1").unwrap();
    let ids: Vec<&str> = b
        .topology
        .remote_clusters
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(ids, ["cluster-b"]);
    let named: Vec<&str> = b.skipped.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(named, ["c-bad", "d-hostbits", "e-noip", "f-overlap"]);
    let text: Vec<String> = b.skipped.iter().map(ToString::to_string).collect();
    assert!(
        text[0].contains("10.300.0.0/16") && text[0].contains("Endpoint \"c-bad\""),
        "{text:?}"
    );
    assert!(text[1].contains("10.247.0.0/16"), "{text:?}");
    assert!(text[3].contains("overlaps"), "{text:?}");
}

#[test]
fn newest_invalid_remote_falls_back_to_the_next_usable_one() {
    let eps = vec![
        ep(
            "b-old",
            "cluster-b",
            "b-gw",
            "172.18.0.5",
            &["10.245.0.0/16"],
            1,
        ),
        ep("b-new", "cluster-b", "b-gw", "172.18.0.6", &[], 2),
    ];
    let b = build_topology(&cfg(), &nodes(), &eps, "worker-1", "worker-1").unwrap();
    assert_eq!(
        b.topology.remote_clusters[0].gateway.private_ip.to_string(),
        "172.18.0.5"
    );
    assert_eq!(b.skipped[0].name, "b-new");
}

#[test]
fn plural_ip_fields_and_hostname_mapping_by_ip() {
    let mut e = ep("a", "cluster-a", "some-other-name", "", &[], 1);
    e.spec.private_ips = vec!["fd00::1".into(), "192.168.1.11".into()];
    let b = build_topology(&cfg(), &nodes(), &[e], "worker-1", "worker-1").unwrap();
    let g = b.topology.active_gateway().unwrap();
    assert_eq!(
        (g.hostname.as_str(), g.private_ip.to_string()),
        ("gw-2", "192.168.1.11".to_string())
    );
}

#[test]
fn mss_annotation_and_missing_node() {
    let mut ns = nodes();
    ns[2].metadata.annotations = Some([(MSS_ANNOTATION.to_string(), "1300".to_string())].into());
    let t = build_topology::<_, Endpoint>(&cfg(), &ns, &[], "worker-1", "worker-1")
        .unwrap()
        .topology;
    assert_eq!(t.tunables.mss, Some(1300));
    ns[2].metadata.annotations = Some([(MSS_ANNOTATION.to_string(), "tiny".to_string())].into());
    let b = build_topology::<_, Endpoint>(&cfg(), &ns, &[], "worker-1", "worker-1").unwrap();
    assert_eq!(b.topology.tunables.mss, None);
    assert!(b.skipped[0].reason.contains(MSS_ANNOTATION));
    let e = build_topology::<_, Endpoint>(&cfg(), &ns, &[], "nobody", "nobody").unwrap_err();
    assert!(matches!(e, BuildError::ThisNodeMissing { .. }), "{e}");
    assert!(e.to_string().contains("NODE_NAME"));
}

#[test]
fn endpoint_private_ip_on_a_second_internal_ip() {
    let mut ns = nodes();
    if let Some(a) = ns[1].status.as_mut().and_then(|s| s.addresses.as_mut()) {
        a.push(NodeAddress {
            type_: "InternalIP".into(),
            address: "10.10.0.11".into(),
        });
    }
    let eps = vec![ep("gw", "cluster-a", "gw-2", "10.10.0.11", &[], 1)];
    let t = build_topology(&cfg(), &ns, &eps, "worker-1", "worker-1")
        .unwrap()
        .topology;
    assert_eq!(
        t.active_gateway().unwrap().private_ip.to_string(),
        "10.10.0.11"
    );
    assert_eq!(t.node("gw-2").unwrap().ip.to_string(), "10.10.0.11");
}

#[test]
fn empty_cluster_cidr_is_an_invalid_topology_naming_the_variable() {
    let mut c = cfg();
    c.cluster_cidrs.clear();
    let e = build_topology(
        &c,
        &nodes(),
        &Vec::<Endpoint>::new(),
        "worker-1",
        "worker-1",
    )
    .unwrap_err();
    let text = errchain::Chain(&e).to_string();
    assert!(
        text.contains("SUBMARINER_CLUSTERCIDR") && text.contains("cluster.clusterCIDRs"),
        "{text}"
    );
}

#[test]
fn network_plugin_reaches_the_topology() {
    let mut c = cfg();
    c.network_plugin = topology::Cni::OvnKubernetes;
    let built = build_topology(
        &c,
        &nodes(),
        &Vec::<Endpoint>::new(),
        "worker-1",
        "worker-1",
    )
    .unwrap();
    assert_eq!(built.topology.cluster.cni, topology::Cni::OvnKubernetes);
}

/// OVN-Kubernetes' node annotations reach the topology on the OVN datapath
/// only; a bad one is a note, and the node is kept.
#[test]
fn ovn_node_annotations_on_the_ovn_datapath_only() {
    use crate::ovn_node::{L3_GATEWAY_ANNOTATION, TRANSIT_ANNOTATION, ZONE_ANNOTATION};
    let mut ns = nodes();
    ns[0].metadata.annotations = Some(BTreeMap::from([
        (ZONE_ANNOTATION.to_string(), "gw-1".to_string()),
        (
            TRANSIT_ANNOTATION.to_string(),
            r#"{"ipv4":"100.88.0.2/16"}"#.to_string(),
        ),
        (
            L3_GATEWAY_ANNOTATION.to_string(),
            r#"{"default":{"mode":"local"}}"#.to_string(),
        ),
    ]));
    ns[2].metadata.annotations = Some(BTreeMap::from([(
        TRANSIT_ANNOTATION.to_string(),
        "garbage".to_string(),
    )]));
    let eps = Vec::<Endpoint>::new();
    let plain = build_topology(&cfg(), &ns, &eps, "worker-1", "worker-1").unwrap();
    assert!(plain.topology.cluster.nodes.iter().all(|n| n.ovn.is_none()));
    let mut c = cfg();
    c.network_plugin = topology::Cni::OvnKubernetes;
    let built = build_topology(&c, &ns, &eps, "worker-1", "worker-1").unwrap();
    let gw1 = built.topology.node("gw-1").unwrap().ovn.clone().unwrap();
    assert_eq!(gw1.transit_switch_ip, Some("100.88.0.2".parse().unwrap()));
    assert_eq!(gw1.gateway_mode, Some(topology::GatewayMode::Local));
    assert_eq!(built.topology.node("worker-1").unwrap().ovn, None);
    assert!(
        built
            .notes
            .iter()
            .any(|n| n.contains("worker-1") && n.contains(TRANSIT_ANNOTATION)),
        "{:?}",
        built.notes
    );
}

/// Endpoint `backend` / `backend_config` reach the topology (invalid keys
/// dropped with a note); SUBMARINER_GLOBALCIDR becomes `globalCIDR` and
/// joins the overlap check; a remote gateway inside its own subnet is kept
/// (next-hop route, Submariner #1106); the cable stays external.
#[test]
fn backend_globalnet_and_gateway_inside_its_subnet() {
    let mut local = ep(
        "a-gw-1",
        "cluster-a",
        "gw-1",
        "192.168.1.10",
        &["242.0.0.0/16"],
        1,
    );
    local.spec.backend = "wireguard".into();
    local.spec.backend_config = [
        ("interface-name", "submariner"),
        ("udp-port", "not-a-port"),
        ("public-key", "abc"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let eps = vec![
        local,
        // AKS-like: the gateway lies in its own routed pod network.
        ep("b", "cluster-b", "b-gw", "242.1.0.5", &["242.1.0.0/16"], 2),
        ep(
            "c",
            "cluster-c",
            "c-gw",
            "172.18.0.7",
            &["242.0.128.0/17"],
            3,
        ),
    ];
    let mut c = cfg();
    c.global_cidr = Some("242.0.0.0/16".parse().unwrap());
    let b = build_topology(&c, &nodes(), &eps, "gw-1", "gw-1").unwrap();
    let t = &b.topology;
    assert_eq!(t.cluster.cable, None);
    assert_eq!(t.cluster.global_cidr, c.global_cidr);
    let g = t.active_gateway().unwrap();
    assert_eq!(g.backend.as_deref(), Some("wireguard"));
    assert_eq!(g.interface_name(), Some("submariner"));
    assert_eq!(g.backend_config.len(), 1, "{:?}", g.backend_config);
    assert!(
        b.notes.iter().any(|n| n.contains("udp-port")),
        "{:?}",
        b.notes
    );
    let ids: Vec<_> = t.remote_clusters.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["cluster-b"], "c overlaps the global CIDR");
    assert_eq!(
        t.remote_clusters[0].gateway.backend.as_deref(),
        Some("libreswan")
    );
    assert!(b
        .skipped
        .iter()
        .any(|s| s.name == "c" && s.reason.contains("overlaps")));
}

#[test]
fn globalcidr_variable_is_one_cidr() {
    let get = |extra: &'static str| {
        move |k: &str| match k {
            "SUBMARINER_NAMESPACE" => Some("ns".to_string()),
            "SUBMARINER_CLUSTERID" => Some("cluster-a".into()),
            "SUBMARINER_CLUSTERCIDR" => Some("10.244.0.0/16".into()),
            "NODE_NAME" => Some("n".into()),
            "SUBMARINER_GLOBALCIDR" => Some(extra.into()),
            _ => None,
        }
    };
    let c = KubeConfig::from_lookup(get("242.0.0.0/16")).unwrap();
    assert_eq!(c.global_cidr, Some("242.0.0.0/16".parse().unwrap()));
    let e = KubeConfig::from_lookup(get("242.0.0.0/16,243.0.0.0/16")).unwrap_err();
    assert!(e.to_string().contains("SUBMARINER_GLOBALCIDR"), "{e}");
}
