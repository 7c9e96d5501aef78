//! One test per validation rule: the error names the field path and the fix.

use topology::{Topology, TopologyError, Tunables};

const BASE: &str = include_str!("../../../examples/two-clusters-a.yaml");

/// Parses `yaml`, expecting an error whose text contains every needle.
fn fails(yaml: &str, needles: &[&str]) -> TopologyError {
    let e = Topology::from_yaml(yaml).expect_err("expected an error");
    let text = e.to_string();
    for n in needles {
        assert!(text.contains(n), "error {text:?} lacks {n:?}");
    }
    e
}

/// BASE with `from` replaced by `to` (which must occur).
fn edit(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "BASE lacks {from:?}");
    BASE.replacen(from, to, 1)
}

fn invalid_path(e: &TopologyError) -> &str {
    match e {
        TopologyError::Invalid { path, .. } => path,
        e => panic!("expected Invalid, got {e:?}"),
    }
}

#[test]
fn base_is_valid() {
    Topology::from_yaml(BASE).unwrap();
}

#[test]
fn bad_cidr_names_the_path_and_the_line() {
    let y = edit(
        "subnets: [10.245.0.0/16, 10.97.0.0/16]",
        "subnets: [10.245.0.0/16, 10.0.0.0/33]",
    );
    let e = fails(
        &y,
        &[
            r#"remoteClusters[0].subnets[1]: "10.0.0.0/33" is not a CIDR"#,
            "line 23 column",
        ],
    );
    assert!(
        matches!(e, TopologyError::Syntax { line: Some(23), .. }),
        "{e:?}"
    );
    // second remote cluster: index 1
    let y = format!(
        "{BASE}  - id: cluster-c\n    subnets: [10.0.0.0/33]\n    gateway: {{hostname: c1, privateIP: 10.3.0.1}}\n"
    );
    fails(
        &y,
        &[r#"remoteClusters[1].subnets[0]: "10.0.0.0/33" is not a CIDR"#],
    );
}

#[test]
fn cidr_without_prefix_length() {
    fails(
        &edit(
            "clusterCIDRs: [10.244.0.0/16]",
            "clusterCIDRs: [10.244.0.0]",
        ),
        &["cluster.clusterCIDRs[0]", "prefix length is missing"],
    );
}

#[test]
fn bad_ip() {
    fails(
        &edit("ip: 10.1.0.2", "ip: 10.1.0.300"),
        &["cluster.nodes[1].ip", "\"10.1.0.300\" is not an IP address"],
    );
    fails(
        &edit("publicIP: 192.168.50.2", "publicIP: nope"),
        &["remoteClusters[0].gateway.publicIP", "not an IP address"],
    );
}

#[test]
fn host_bits() {
    let e = fails(
        &edit(
            "serviceCIDRs: [10.96.0.0/16]",
            "serviceCIDRs: [10.96.1.0/16]",
        ),
        &["host bits", "write \"10.96.0.0/16\""],
    );
    assert_eq!(invalid_path(&e), "cluster.serviceCIDRs[0]");
}

#[test]
fn local_and_remote_overlap_names_both() {
    let e = fails(
        &edit(
            "subnets: [10.245.0.0/16, 10.97.0.0/16]",
            "subnets: [10.245.0.0/16, 10.96.128.0/17]",
        ),
        &[
            "\"10.96.128.0/17\" overlaps cluster.serviceCIDRs[0] \"10.96.0.0/16\"",
            "cluster-a",
            "cluster-b",
        ],
    );
    assert_eq!(invalid_path(&e), "remoteClusters[0].subnets[1]");
}

#[test]
fn remote_clusters_overlap_each_other() {
    let y = format!(
        "{BASE}  - id: cluster-c\n    subnets: [10.240.0.0/12]\n    gateway: {{hostname: c1, privateIP: 10.3.0.1}}\n"
    );
    let e = fails(&y, &["overlaps cluster.clusterCIDRs[0]"]);
    assert_eq!(invalid_path(&e), "remoteClusters[1].subnets[0]");
    let y = format!(
        "{BASE}  - id: cluster-c\n    subnets: [10.97.0.0/24]\n    gateway: {{hostname: c1, privateIP: 10.3.0.1}}\n"
    );
    fails(
        &y,
        &[
            "remoteClusters[1].subnets[0]",
            "overlaps remoteClusters[0].subnets[1] \"10.97.0.0/16\"",
            "\"cluster-b\" and \"cluster-c\"",
        ],
    );
}

#[test]
fn local_cidrs_overlap_each_other() {
    fails(
        &edit(
            "serviceCIDRs: [10.96.0.0/16]",
            "serviceCIDRs: [10.244.16.0/20]",
        ),
        &[
            "cluster.serviceCIDRs[0]",
            "overlaps cluster.clusterCIDRs[0]",
        ],
    );
}

#[test]
fn duplicate_cluster_ids() {
    let e = fails(
        &edit("  - id: cluster-b", "  - id: cluster-a"),
        &["already used by cluster.id"],
    );
    assert_eq!(invalid_path(&e), "remoteClusters[0].id");
    let y = format!(
        "{BASE}  - id: cluster-b\n    subnets: [10.99.0.0/16]\n    gateway: {{hostname: c1, privateIP: 10.3.0.1}}\n"
    );
    fails(
        &y,
        &[
            "remoteClusters[1].id",
            "already used by remoteClusters[0].id",
        ],
    );
}

#[test]
fn bad_cluster_id() {
    fails(
        &edit("id: cluster-a", "id: Cluster_A"),
        &["cluster.id", "not a valid cluster id"],
    );
}

#[test]
fn duplicate_node_name_and_ip() {
    let e = fails(
        &edit("name: a2", "name: a1"),
        &["node names must be unique", "cluster.nodes[0]"],
    );
    assert_eq!(invalid_path(&e), "cluster.nodes[1].name");
    let e = fails(
        &edit("ip: 10.1.0.3", "ip: 10.1.0.2"),
        &["10.1.0.2 is also cluster.nodes[1]'s ip"],
    );
    assert_eq!(invalid_path(&e), "cluster.nodes[2].ip");
}

#[test]
fn ipv6_node() {
    fails(
        &edit("ip: 10.1.0.3", "ip: fd00::3"),
        &["cluster.nodes[2].ip", "IPv6"],
    );
}

#[test]
fn unknown_field_names_path_and_location() {
    let e = fails(
        &edit(
            "      ip: 10.1.0.2\n",
            "      ip: 10.1.0.2\n      role: worker\n",
        ),
        &["cluster.nodes[1]", "unknown field `role`", "line 14 column"],
    );
    assert!(matches!(e, TopologyError::Syntax { .. }));
    fails(
        &format!("{BASE}tunables:\n  vxlanVni: 5\n"),
        &["tunables", "unknown field `vxlanVni`", "vxlanVNI"],
    );
    fails(&format!("{BASE}extra: 1\n"), &["unknown field `extra`"]);
}

#[test]
fn syntax_error_has_location() {
    let e = fails("cluster:\n  id: [a\n", &["line "]);
    assert!(
        matches!(
            e,
            TopologyError::Syntax {
                line: Some(_),
                column: Some(_),
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn gateway_must_be_a_node() {
    let e = fails(
        &edit("hostname: a1", "hostname: a9"),
        &[
            "\"a9\" is not in cluster.nodes (known: a1, a2, a3)",
            "must be one of the cluster's nodes",
        ],
    );
    assert_eq!(invalid_path(&e), "cluster.gateways[0].hostname");
}

#[test]
fn gateway_private_ip_is_the_node_ip() {
    let e = fails(
        &edit("privateIP: 10.1.0.1", "privateIP: 10.1.0.9"),
        &["write 10.1.0.1"],
    );
    assert_eq!(invalid_path(&e), "cluster.gateways[0].privateIP");
}

#[test]
fn remote_gateway_cable_address_unique() {
    let y = format!(
        "{BASE}  - id: cluster-c\n    subnets: [10.99.0.0/16]\n    gateway: {{hostname: c1, privateIP: 10.3.0.1, publicIP: 192.168.50.2}}\n"
    );
    fails(
        &y,
        &[
            "remoteClusters[1].gateway",
            "192.168.50.2",
            "remoteClusters[0].gateway",
        ],
    );
}

#[test]
fn empty_lists() {
    fails(
        &edit("clusterCIDRs: [10.244.0.0/16]", "clusterCIDRs: []"),
        &["cluster.clusterCIDRs: is empty"],
    );
    fails(
        &edit("subnets: [10.245.0.0/16, 10.97.0.0/16]", "subnets: []"),
        &["remoteClusters[0].subnets: is empty"],
    );
}

fn with_tunables(t: &str) -> String {
    format!("{BASE}tunables:\n{t}")
}

#[test]
fn vni_out_of_range() {
    fails(
        &with_tunables("  vxlanVNI: 0\n"),
        &["tunables.vxlanVNI: 0 is out of range; a VNI is 1 to 16777215"],
    );
    fails(
        &with_tunables("  cableVNI: 16777216\n"),
        &["tunables.cableVNI: 16777216 is out of range"],
    );
    Topology::from_yaml(&with_tunables("  cableVNI: 16777215\n")).unwrap();
}

#[test]
fn port_zero() {
    fails(
        &with_tunables("  vxlanPort: 0\n"),
        &["tunables.vxlanPort: is 0"],
    );
    fails(
        &with_tunables("  cablePort: 0\n"),
        &["tunables.cablePort: is 0"],
    );
}

#[test]
fn cable_and_vxlan_clash() {
    fails(
        &with_tunables("  cablePort: 4800\n  cableVNI: 100\n"),
        &["tunables.cableVNI", "change cableVNI or cablePort"],
    );
    Topology::from_yaml(&with_tunables("  cablePort: 4800\n")).unwrap();
}

#[test]
fn mtu_and_mss_bounds() {
    fails(
        &with_tunables("  mtu: 575\n"),
        &["tunables.mtu: 575 is out of range"],
    );
    Topology::from_yaml(&with_tunables("  mtu: 576\n")).unwrap();
    fails(
        &with_tunables("  mss: 535\n"),
        &["tunables.mss: 535 is below 536"],
    );
    Topology::from_yaml(&with_tunables("  mss: 536\n")).unwrap();
}

#[test]
fn resync_and_cni_interface() {
    fails(
        &with_tunables("  resyncPeriodSeconds: 0\n"),
        &["tunables.resyncPeriodSeconds: is 0"],
    );
    fails(
        &with_tunables("  cniInterface: averyveryverylongname\n"),
        &["tunables.cniInterface", "not an interface name"],
    );
    fails(
        &with_tunables("  cniInterface: \"a/b\"\n"),
        &["tunables.cniInterface"],
    );
}

#[test]
fn defaults() {
    let t = Topology::from_yaml(BASE).unwrap();
    assert_eq!(t.tunables, Tunables::default());
    let d = Tunables::default();
    assert_eq!(
        (d.vxlan_vni, d.vxlan_port, d.cable_vni, d.cable_port),
        (100, 4800, 1000, 4500)
    );
    assert_eq!(
        (d.mtu, d.mss, d.resync_period_seconds, d.cni_interface),
        (None, None, 30, None)
    );
    // a partial tunables block keeps the other defaults
    let t = Topology::from_yaml(&with_tunables("  mtu: 1400\n")).unwrap();
    assert_eq!(
        t.tunables,
        Tunables {
            mtu: Some(1400),
            ..Tunables::default()
        }
    );
    // remoteClusters, serviceCIDRs and gateways are optional
    let t = Topology::from_yaml("cluster:\n  id: solo\n  clusterCIDRs: [10.244.0.0/16]\n  nodes: [{name: n1, ip: 10.0.0.1}]\n").unwrap();
    assert!(t.remote_clusters.is_empty() && t.cluster.service_cidrs.is_empty());
    assert_eq!(t.active_gateway(), None);
}

#[test]
fn accessors() {
    let t = Topology::from_yaml(BASE).unwrap();
    assert_eq!(t.local_cluster_id(), "cluster-a");
    assert_eq!(t.active_gateway().map(|g| g.hostname.as_str()), Some("a1"));
    assert!(t.is_gateway("a1") && !t.is_gateway("a2"));
    let cidrs: Vec<String> = t.local_cidrs().iter().map(|c| c.to_string()).collect();
    assert_eq!(cidrs, ["10.244.0.0/16", "10.96.0.0/16"]);
    match t.node("zz").unwrap_err() {
        TopologyError::UnknownNode { node, known } => {
            assert_eq!(node, "zz");
            assert_eq!(known, ["a1", "a2", "a3"]);
        }
        e => panic!("{e:?}"),
    }
    assert!(t.node("zz").unwrap_err().to_string().contains("--node"));
}

#[test]
fn round_trip_with_every_field() {
    let mut t = Topology::from_yaml(BASE).unwrap();
    t.tunables = Tunables {
        vxlan_vni: 7,
        vxlan_port: 4801,
        cable_vni: 8,
        cable_port: 4501,
        mtu: Some(1400),
        mss: Some(1300),
        resync_period_seconds: 5,
        cni_interface: Some("cni0".into()),
    };
    let y = t.to_yaml().unwrap();
    assert!(
        y.contains("clusterCIDRs") && y.contains("privateIP") && y.contains("vxlanVNI"),
        "{y}"
    );
    assert_eq!(Topology::from_yaml(&y).unwrap(), t);
}

#[test]
fn load_errors_name_the_file() {
    let e = Topology::load("/nonexistent/topology.yaml").unwrap_err();
    assert!(e.to_string().contains("/nonexistent/topology.yaml"), "{e}");
    let dir = std::env::temp_dir().join(format!("topology-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("bad.yaml");
    std::fs::write(&f, edit("hostname: a1", "hostname: a9")).unwrap();
    let e = Topology::load(&f).unwrap_err();
    assert!(
        e.to_string().contains("bad.yaml")
            && e.to_string().contains("cluster.gateways[0].hostname"),
        "{e}"
    );
    assert!(matches!(e, TopologyError::Invalid { .. }));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn tunnel_ranges_are_reserved() {
    let e = fails(
        &edit(
            "serviceCIDRs: [10.96.0.0/16]",
            "serviceCIDRs: [240.96.0.0/16]",
        ),
        &["overlaps 240.0.0.0/8", "use another range"],
    );
    assert_eq!(invalid_path(&e), "cluster.serviceCIDRs[0]");
    fails(
        &edit(
            "subnets: [10.245.0.0/16, 10.97.0.0/16]",
            "subnets: [10.245.0.0/16, 241.0.0.0/8]",
        ),
        &["remoteClusters[0].subnets[1]", "overlaps 241.0.0.0/8"],
    );
}

#[test]
fn remote_subnet_holding_a_tunnel_endpoint() {
    let e = fails(
        &edit(
            "subnets: [10.245.0.0/16, 10.97.0.0/16]",
            "subnets: [10.245.0.0/16, 192.168.50.0/24]",
        ),
        &[
            "contains cluster.gateways[0].publicIP 192.168.50.1",
            "routed into the tunnels",
        ],
    );
    assert_eq!(invalid_path(&e), "remoteClusters[0].subnets[1]");
    fails(
        &edit(
            "subnets: [10.245.0.0/16, 10.97.0.0/16]",
            "subnets: [10.245.0.0/16, 10.2.0.0/16]",
        ),
        &["contains remoteClusters[0].gateway.privateIP 10.2.0.1"],
    );
    fails(
        &edit(
            "subnets: [10.245.0.0/16, 10.97.0.0/16]",
            "subnets: [10.245.0.0/16, 10.1.0.0/24]",
        ),
        &["contains cluster.nodes[0].ip 10.1.0.1"],
    );
}
