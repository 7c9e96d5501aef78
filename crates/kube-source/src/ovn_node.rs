//! [`ovn_node`]: OVN-Kubernetes' annotations on a Node as the topology's
//! [`OvnNode`] (read on the OVN datapath only). A value that does not
//! parse is left out and named; the rest of the node is kept.

use k8s_openapi::api::core::v1::Node;
use kube::ResourceExt;
use serde::Deserialize;
use std::net::Ipv4Addr;
use topology::{GatewayMode, OvnNode};

/// The node's interconnect zone.
pub const ZONE_ANNOTATION: &str = "k8s.ovn.org/zone-name";
/// The node's transit switch address, `{"ipv4":"100.88.0.2/16"}`.
pub const TRANSIT_ANNOTATION: &str = "k8s.ovn.org/node-transit-switch-port-ifaddr";
/// The node's gateway configuration, `{"default":{"mode":"local",...}}`.
pub const L3_GATEWAY_ANNOTATION: &str = "k8s.ovn.org/l3-gateway-config";

#[derive(Deserialize)]
struct Transit {
    ipv4: Option<String>,
}

#[derive(Deserialize)]
struct L3Gateway {
    default: Option<L3Default>,
}

#[derive(Deserialize)]
struct L3Default {
    mode: Option<String>,
}

/// The node's [`OvnNode`] (`None` when it has none of the annotations),
/// and one line per annotation that was ignored, naming it and why.
pub fn ovn_node(n: &Node) -> (Option<OvnNode>, Vec<String>) {
    let a = n.annotations();
    let mut bad = Vec::new();
    let mut ignore = |key: &str, v: &str, why: &str| {
        bad.push(format!(
            "Node {:?}: annotation {key}={v:?} {why}; ignored (OVN-Kubernetes sets it)",
            n.name_any()
        ))
    };
    let zone = a
        .get(ZONE_ANNOTATION)
        .map(|z| z.trim().to_string())
        .filter(|z| !z.is_empty());
    let transit_switch_ip = a.get(TRANSIT_ANNOTATION).and_then(|v| {
        let parsed = serde_json::from_str::<Transit>(v)
            .ok()
            .and_then(|t| t.ipv4)
            .and_then(|c| c.split('/').next()?.parse::<Ipv4Addr>().ok());
        if parsed.is_none() {
            ignore(
                TRANSIT_ANNOTATION,
                v,
                "is not {\"ipv4\": \"<address>/<length>\"}",
            );
        }
        parsed
    });
    let gateway_mode = a.get(L3_GATEWAY_ANNOTATION).and_then(|v| {
        let mode = serde_json::from_str::<L3Gateway>(v)
            .ok()
            .and_then(|g| g.default?.mode);
        match mode.as_deref() {
            Some("local") => Some(GatewayMode::Local),
            Some("shared") => Some(GatewayMode::Shared),
            _ => {
                ignore(
                    L3_GATEWAY_ANNOTATION,
                    v,
                    "has no default.mode \"local\" or \"shared\"",
                );
                None
            }
        }
    });
    let node = OvnNode {
        zone,
        transit_switch_ip,
        gateway_mode,
    };
    ((node != OvnNode::default()).then_some(node), bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn node(annotations: &[(&str, &str)]) -> Node {
        Node {
            metadata: ObjectMeta {
                name: Some("n1".into()),
                annotations: Some(
                    annotations
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn reads_zone_transit_address_and_mode() {
        let (o, bad) = ovn_node(&node(&[
            (ZONE_ANNOTATION, "n1"),
            (
                TRANSIT_ANNOTATION,
                r#"{"ipv4":"100.88.0.3/16","ipv6":"fd97::3/64"}"#,
            ),
            (
                L3_GATEWAY_ANNOTATION,
                r#"{"default":{"mode":"local","interface-id":"br-ex_n1","ip-addresses":["172.18.0.3/16"]}}"#,
            ),
        ]));
        assert!(bad.is_empty(), "{bad:?}");
        let o = o.unwrap();
        assert_eq!(o.zone.as_deref(), Some("n1"));
        assert_eq!(o.transit_switch_ip, Some(Ipv4Addr::new(100, 88, 0, 3)));
        assert_eq!(o.gateway_mode, Some(GatewayMode::Local));
    }

    #[test]
    fn no_annotations_is_none_and_bad_values_are_named() {
        assert_eq!(ovn_node(&node(&[])), (None, vec![]));
        let (o, bad) = ovn_node(&node(&[
            (ZONE_ANNOTATION, "global"),
            (TRANSIT_ANNOTATION, r#"{"ipv4":"nope"}"#),
            (L3_GATEWAY_ANNOTATION, r#"{"default":{"mode":"disabled"}}"#),
        ]));
        assert_eq!(o.unwrap().transit_switch_ip, None);
        assert_eq!(bad.len(), 2);
        assert!(bad[0].contains(TRANSIT_ANNOTATION) && bad[0].contains("n1"));
        assert!(bad[1].contains("default.mode"));
    }
}
