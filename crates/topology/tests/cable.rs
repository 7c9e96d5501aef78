//! The cable and Globalnet fields: `cluster.cable`, `cluster.globalCIDR`,
//! Endpoint `backend` and `backendConfig`.

use topology::{CableKind, Topology};

const BASE: &str = include_str!("../../../examples/two-clusters-a.yaml");

/// BASE with `from` replaced by `to` (which must occur).
fn edit(base: &str, from: &str, to: &str) -> String {
    assert!(base.contains(from), "base lacks {from:?}");
    base.replacen(from, to, 1)
}

/// BASE without `cable: vxlan`: an external cable.
fn external() -> String {
    edit(
        BASE,
        "  cable: vxlan        # routeagent builds the inter-cluster cable itself\n",
        "",
    )
}

fn fails(yaml: &str, needles: &[&str]) {
    let e = Topology::from_yaml(yaml).expect_err("expected an error");
    let text = e.to_string();
    for n in needles {
        assert!(text.contains(n), "error {text:?} lacks {n:?}");
    }
}

#[test]
fn cable_is_optional_and_round_trips() {
    let own = Topology::from_yaml(BASE).unwrap();
    assert_eq!(own.cluster.cable, Some(CableKind::Vxlan));
    let ext = Topology::from_yaml(&external()).unwrap();
    assert_eq!(ext.cluster.cable, None);
    assert!(!ext.to_yaml().unwrap().contains("cable:"));
    assert_eq!(Topology::from_yaml(&own.to_yaml().unwrap()).unwrap(), own);
    fails(
        &edit(BASE, "cable: vxlan", "cable: ipsec"),
        &["unknown variant `ipsec`", "vxlan"],
    );
}

#[test]
fn backend_and_backend_config_parse() {
    let y = edit(
        &external(),
        "      healthCheckIP: 10.244.1.1\n",
        "      healthCheckIP: 10.244.1.1\n      backend: wireguard\n      backendConfig: {interface-name: submariner, udp-port: \"4500\"}\n",
    );
    let t = Topology::from_yaml(&y).unwrap();
    let g = t.active_gateway().unwrap();
    assert_eq!(g.backend.as_deref(), Some("wireguard"));
    assert_eq!(g.interface_name(), Some("submariner"));
    assert_eq!(g.udp_port(), Some(4500));
    assert_eq!(Topology::from_yaml(&t.to_yaml().unwrap()).unwrap(), t);
    fails(
        &edit(&y, "interface-name: submariner", "interface-name: a/b"),
        &[
            "cluster.gateways[0].backendConfig.interface-name",
            "not an interface name",
        ],
    );
    fails(
        &edit(&y, "udp-port: \"4500\"", "udp-port: \"0\""),
        &["cluster.gateways[0].backendConfig.udp-port", "1 to 65535"],
    );
    fails(
        &edit(&y, "backend: wireguard", "backend: \"\""),
        &["cluster.gateways[0].backend", "is empty"],
    );
}

#[test]
fn own_cable_needs_the_same_backend_everywhere() {
    let remote_wg = edit(
        BASE,
        "      healthCheckIP: 10.245.1.1\n",
        "      healthCheckIP: 10.245.1.1\n      backend: wireguard\n",
    );
    fails(
        &remote_wg,
        &[
            "remoteClusters[0].gateway.backend",
            "cluster.cable is \"vxlan\"",
        ],
    );
    let remote_vxlan = edit(&remote_wg, "backend: wireguard", "backend: vxlan");
    Topology::from_yaml(&remote_vxlan).unwrap();
    // An external cable accepts any backend.
    Topology::from_yaml(&edit(
        &external(),
        "      healthCheckIP: 10.245.1.1\n",
        "      healthCheckIP: 10.245.1.1\n      backend: libreswan\n",
    ))
    .unwrap();
}

#[test]
fn global_cidr_is_checked_like_the_others() {
    let y = edit(
        BASE,
        "  cable: vxlan",
        "  globalCIDR: 242.0.0.0/16\n  cable: vxlan",
    );
    let t = Topology::from_yaml(&y).unwrap();
    assert!(t.globalnet());
    assert_eq!(t.cluster.global_cidr.unwrap().to_string(), "242.0.0.0/16");
    fails(
        &edit(&y, "242.0.0.0/16", "242.0.0.1/16"),
        &["cluster.globalCIDR", "host bits"],
    );
    fails(
        &edit(&y, "242.0.0.0/16", "10.245.0.0/24"),
        &["10.245.0.0/16", "overlaps cluster.globalCIDR"],
    );
}

/// Submariner issue #1106: a remote gateway inside its own cluster's
/// subnet is reached through a next-hop route when the cable is external;
/// routeagent's own cable cannot carry it.
#[test]
fn remote_gateway_inside_its_subnet_needs_an_external_cable() {
    let from = "subnets: [10.245.0.0/16, 10.97.0.0/16]";
    let to = "subnets: [10.245.0.0/16, 10.2.0.0/16]";
    Topology::from_yaml(&edit(&external(), from, to)).unwrap();
    fails(
        &edit(BASE, from, to),
        &["contains remoteClusters[0].gateway.privateIP 10.2.0.1"],
    );
    // Still refused with an external cable: a local node inside.
    fails(
        &edit(&external(), from, "subnets: [10.245.0.0/16, 10.1.0.0/24]"),
        &["contains cluster.nodes[0].ip 10.1.0.1"],
    );
}
