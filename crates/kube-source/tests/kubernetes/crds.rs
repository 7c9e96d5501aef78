//! Objects shaped like Submariner's (tests/fixtures) parse into our types;
//! the deploy/ manifests parse and match our types' field names and the
//! security requirements.

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::api::rbac::v1::{ClusterRole, Role};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube_source::crd::{ConnectionStatus, Endpoint, EndpointSpec, RouteAgent, RouteAgentStatus};
use kube_source::{build_topology, KubeConfig};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

fn text(path: &str) -> String {
    let p = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn fixture<T: serde::de::DeserializeOwned>(name: &str) -> T {
    serde_yaml::from_str(&text(&format!("tests/fixtures/{name}")))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The documents of a multi-document YAML file, as JSON values.
fn docs(path: &str) -> Vec<Value> {
    let t = text(&format!("../../{path}"));
    serde_yaml::Deserializer::from_str(&t)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect()
}

#[test]
fn submariner_endpoints_parse() {
    let old: Endpoint = fixture("endpoint-remote-v0.18.yaml");
    assert_eq!(old.spec.cluster_id, "cluster2");
    assert_eq!(
        old.spec.private_ip_v4().unwrap().unwrap().to_string(),
        "172.18.0.8"
    );
    assert_eq!(
        old.spec.public_ip_v4().unwrap().unwrap().to_string(),
        "203.0.113.7"
    );
    assert_eq!(
        old.spec.health_check_ip_v4().unwrap().unwrap().to_string(),
        "10.131.0.1"
    );
    assert_eq!(old.spec.backend_config["udp-port"], "4500");
    assert!(old.spec.nat_enabled);
    let new: Endpoint = fixture("endpoint-remote-v0.20.yaml");
    assert_eq!(new.spec.private_ips.len(), 2);
    assert_eq!(
        new.spec.public_ip_v4().unwrap(),
        None,
        "empty public IP fields"
    );
    assert_eq!(
        new.spec.health_check_ip_v4().unwrap().unwrap().to_string(),
        "10.132.0.1"
    );

    // Serialized back, the keys are Submariner's.
    let keys: BTreeSet<String> = serde_json::to_value(&new.spec)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let want = [
        "backend",
        "backend_config",
        "cable_name",
        "cluster_id",
        "healthCheckIP",
        "healthCheckIPs",
        "hostname",
        "nat_enabled",
        "private_ip",
        "private_ips",
        "public_ip",
        "subnets",
    ];
    assert_eq!(keys, want.iter().map(|s| s.to_string()).collect());
}

#[test]
fn fixtures_build_a_topology() {
    let m: BTreeMap<&str, &str> = [
        ("SUBMARINER_NAMESPACE", "submariner-operator"),
        ("SUBMARINER_CLUSTERID", "cluster1"),
        ("SUBMARINER_CLUSTERCIDR", "10.130.0.0/16"),
        ("SUBMARINER_SERVICECIDR", "100.66.0.0/16"),
        ("NODE_NAME", "cluster1-worker"),
    ]
    .into_iter()
    .collect();
    let cfg = KubeConfig::from_lookup(|k| m.get(k).map(|v| v.to_string())).unwrap();
    let nodes: Value = fixture("nodes.yaml");
    let nodes: Vec<Node> = serde_json::from_value(nodes["items"].clone()).unwrap();
    let eps: Vec<Endpoint> = [
        "endpoint-local.yaml",
        "endpoint-remote-v0.18.yaml",
        "endpoint-remote-v0.20.yaml",
    ]
    .iter()
    .map(|f| fixture(f))
    .collect();
    let b = build_topology(
        &cfg,
        &nodes,
        &eps,
        "cluster1-worker",
        "cluster1-worker.example.internal",
    )
    .unwrap();
    let t = &b.topology;
    assert!(t.is_gateway("cluster1-worker"), "matched by OS host name");
    assert_eq!(
        t.active_gateway().unwrap().public_ip.unwrap().to_string(),
        "198.51.100.4"
    );
    assert_eq!(t.tunables.mss, Some(1300));
    assert_eq!(t.cluster.nodes.len(), 2);
    let ids: Vec<&str> = t.remote_clusters.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["cluster2", "cluster3"]);
    assert!(b.skipped.is_empty(), "{:?}", b.skipped);
}

#[test]
fn submariner_routeagent_round_trips() {
    let ra: RouteAgent = fixture("routeagent.yaml");
    assert_eq!(ra.status.version, "v0.20.1");
    let r = &ra.status.remote_endpoints[0];
    assert_eq!(r.status, ConnectionStatus::Connected);
    assert_eq!(r.latency_rtt.as_ref().unwrap().average, "388.079µs");
    let back = serde_json::to_value(&ra).unwrap();
    let orig: Value = fixture("routeagent.yaml");
    assert_eq!(
        back["status"], orig["status"],
        "Submariner's status survives a round trip unchanged"
    );
}

/// `s` with `$ref`s (into `root`'s `$defs`) and `anyOf` (Option) followed.
fn resolve<'a>(mut s: &'a Value, root: &'a Value) -> &'a Value {
    loop {
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            s = &root["$defs"][r.trim_start_matches("#/$defs/")];
        } else if let Some(v) = s
            .get("anyOf")
            .or_else(|| s.get("oneOf"))
            .and_then(Value::as_array)
        {
            s = v
                .iter()
                .find(|x| x.get("type") != Some(&Value::from("null")))
                .expect("a non-null variant");
        } else {
            return s;
        }
    }
}

/// Dotted property paths of a JSON schema (`a`, `a.b`, `list[].c`).
fn paths(schema: &Value, root: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    let s = resolve(schema, root);
    let is_array = s.get("type").is_some_and(|t| {
        t == "array"
            || t.as_array()
                .is_some_and(|a| a.contains(&Value::from("array")))
    });
    if is_array {
        return paths(&s["items"], root, &format!("{prefix}[]"), out);
    }
    if let Some(props) = s.get("properties").and_then(Value::as_object) {
        for (k, v) in props {
            let p = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            out.insert(p.clone());
            paths(v, root, &p, out);
        }
    }
}

fn crd_paths(file: &str, top: &str) -> BTreeSet<String> {
    let d = docs(file).remove(0);
    let crd: CustomResourceDefinition = serde_json::from_value(d.clone()).unwrap();
    assert_eq!(crd.spec.group, "submariner.io");
    assert_eq!(crd.spec.versions[0].name, "v1");
    let mut out = BTreeSet::new();
    let s = &d["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"][top];
    paths(s, s, "", &mut out);
    out
}

fn rust_paths<T: schemars::JsonSchema>() -> BTreeSet<String> {
    let root = schemars::schema_for!(T).to_value();
    let mut out = BTreeSet::new();
    paths(&root, &root, "", &mut out);
    out
}

#[test]
fn deploy_crds_match_the_rust_types() {
    let ep = crd_paths("deploy/crds/submariner.io_endpoints.yaml", "spec");
    assert_eq!(ep, rust_paths::<EndpointSpec>());
    assert!(
        ep.contains("cluster_id") && ep.contains("healthCheckIP") && ep.contains("private_ips")
    );
    let ra = crd_paths("deploy/crds/submariner.io_routeagents.yaml", "status");
    assert_eq!(ra, rust_paths::<RouteAgentStatus>());
    assert!(
        ra.contains("remoteEndpoints[].spec.cluster_id")
            && ra.contains("remoteEndpoints[].latencyRTT.stdDev"),
        "{ra:?}"
    );
    let crd: CustomResourceDefinition =
        serde_json::from_value(docs("deploy/crds/submariner.io_routeagents.yaml").remove(0))
            .unwrap();
    assert!(
        crd.spec.versions[0]
            .subresources
            .as_ref()
            .and_then(|s| s.status.as_ref())
            .is_some(),
        "status subresource"
    );
}

#[test]
fn daemonset_is_unprivileged_with_probes_and_env() {
    for file in ["deploy/daemonset.yaml", "deploy/uninstall-daemonset.yaml"] {
        let ds: DaemonSet = serde_json::from_value(docs(file).remove(0)).unwrap();
        let pod = ds.spec.template.spec.unwrap();
        assert_eq!(pod.host_network, Some(true), "{file}");
        assert_eq!(pod.service_account_name.as_deref(), Some("routeagent"));
        let c = pod
            .init_containers
            .as_ref()
            .and_then(|i| i.first())
            .unwrap_or(&pod.containers[0]);
        let sc = c.security_context.clone().unwrap();
        assert_eq!(sc.privileged, Some(false), "{file}");
        assert_eq!(sc.allow_privilege_escalation, Some(false));
        let caps = sc.capabilities.unwrap();
        assert_eq!(
            caps.add.unwrap(),
            ["NET_ADMIN", "NET_RAW"],
            "{file}: only these capabilities"
        );
        assert_eq!(caps.drop.unwrap(), ["ALL"]);
        assert_eq!(
            c.args.as_deref().unwrap(),
            ["run", "--source", "kubernetes"]
        );
        let env: BTreeMap<String, _> = c
            .env
            .clone()
            .unwrap()
            .into_iter()
            .map(|e| (e.name.clone(), e))
            .collect();
        for v in [
            "SUBMARINER_NAMESPACE",
            "SUBMARINER_CLUSTERID",
            "SUBMARINER_CLUSTERCIDR",
            "SUBMARINER_SERVICECIDR",
            "SUBMARINER_UNINSTALL",
            "NODE_NAME",
        ] {
            assert!(env.contains_key(v), "{file}: {v}");
        }
        let node_ref = env["NODE_NAME"]
            .value_from
            .as_ref()
            .and_then(|f| f.field_ref.as_ref())
            .map(|f| f.field_path.as_str());
        assert_eq!(node_ref, Some("spec.nodeName"));
        let uninstall = env["SUBMARINER_UNINSTALL"].value.as_deref();
        assert_eq!(
            uninstall,
            Some(if file.contains("uninstall") {
                "true"
            } else {
                "false"
            })
        );
        if !file.contains("uninstall") {
            let port = |p: &Option<k8s_openapi::api::core::v1::Probe>| {
                let h = p.as_ref().unwrap().http_get.clone().unwrap();
                (h.path.unwrap(), format!("{:?}", h.port))
            };
            let (live, ready) = (port(&c.liveness_probe), port(&c.readiness_probe));
            assert_eq!((live.0.as_str(), ready.0.as_str()), ("/healthz", "/readyz"));
            assert_eq!(live.1, ready.1, "same listen port");
            assert!(
                live.1.contains("9180")
                    && env["ROUTEAGENT_LISTEN"].value.as_deref() == Some("127.0.0.1:9180")
            );
        }
    }
}

#[test]
fn rbac_is_least_privilege() {
    // (manifest, kind, namespace or "", group/resource, verbs, names)
    let mut grants: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in [
        "deploy/rbac.yaml",
        "deploy/rbac-ovn.yaml",
        "deploy/rbac-ovn-openshift.yaml",
    ] {
        for d in docs(file) {
            let (ns, rules) = match d["kind"].as_str() {
                Some("Role") => {
                    let r: Role = serde_json::from_value(d.clone()).unwrap();
                    (r.metadata.namespace.unwrap(), r.rules.unwrap())
                }
                Some("ClusterRole") => {
                    let r: ClusterRole = serde_json::from_value(d.clone()).unwrap();
                    (String::new(), r.rules.unwrap())
                }
                _ => continue,
            };
            for r in rules {
                for g in r.api_groups.clone().unwrap_or_default() {
                    for res in r.resources.clone().unwrap() {
                        let names = r.resource_names.clone().unwrap_or_default().join(",");
                        let key = format!("{file} {ns} {g}/{res} [{names}]");
                        grants.entry(key).or_default().extend(r.verbs.clone());
                    }
                }
            }
        }
    }
    let want: BTreeMap<String, Vec<String>> = [
        (
            "deploy/rbac.yaml submariner-operator submariner.io/endpoints []",
            vec!["get", "list", "watch"],
        ),
        (
            "deploy/rbac.yaml submariner-operator submariner.io/routeagents []",
            vec!["get", "create", "update", "patch", "delete"],
        ),
        (
            "deploy/rbac.yaml submariner-operator submariner.io/routeagents/status []",
            vec!["get", "update", "patch"],
        ),
        // The OVN gateway's GatewayRoutes and NonGatewayRoutes.
        (
            "deploy/rbac.yaml submariner-operator submariner.io/gatewayroutes []",
            vec!["list", "create", "update", "delete"],
        ),
        (
            "deploy/rbac.yaml submariner-operator submariner.io/nongatewayroutes []",
            vec!["list", "create", "update", "delete"],
        ),
        ("deploy/rbac.yaml submariner-operator /pods []", vec!["get"]),
        // patch: the OVN ingress SNAT exclusions annotation.
        (
            "deploy/rbac.yaml  /nodes []",
            vec!["get", "list", "watch", "patch"],
        ),
        // OVN northbound discovery (ovn_nb::facts).
        (
            "deploy/rbac-ovn.yaml  config.openshift.io/networks [cluster]",
            vec!["get"],
        ),
        ("deploy/rbac-ovn.yaml  /pods []", vec!["list"]),
        ("deploy/rbac-ovn.yaml  /services [ovnkube-db]", vec!["get"]),
        ("deploy/rbac-ovn.yaml  /endpoints []", vec!["list"]),
        // OpenShift's default certificate objects (ovn_nb::ApiTls).
        (
            "deploy/rbac-ovn-openshift.yaml openshift-ovn-kubernetes /secrets [ovn-cert]",
            vec!["get"],
        ),
        (
            "deploy/rbac-ovn-openshift.yaml openshift-ovn-kubernetes /configmaps [ovn-ca]",
            vec!["get"],
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(grants, want);
}
