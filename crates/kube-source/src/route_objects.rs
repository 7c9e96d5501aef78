//! Submariner's `GatewayRoute` and `NonGatewayRoute` objects (OVN
//! datapath): on the active gateway, one of each per remote cluster, named
//! after its id, in the Submariner namespace, as Submariner's route agent
//! writes them: `spec.remoteCIDRs` the cluster's subnets, `spec.nextHops`
//! the gateway's `ovn-k8s-mp0` address (GatewayRoute) or, under OVN
//! interconnect, its transit switch address (NonGatewayRoute).
//!
//! routeagent's own nodes do not need them (each computes its northbound
//! objects from the Endpoints and Nodes, `ovn::topo`); they are written so
//! that Submariner's route agents still on other nodes during a rolling
//! swap, and `kubectl get gwrt,ngwrt`, see what the gateway serves.
//!
//! Ownership: objects routeagent writes carry [`MANAGED_BY`]`=`[`OWNER`].
//! An object of a wanted name is written whatever it carried (the Go
//! agent's, adopted); an unwanted one is deleted only with routeagent's
//! label, and others are reported as left alone.
//!
//! [`wanted`] is pure; [`RouteObjects::keep`] lists, creates, replaces and
//! deletes (`kubectl get/create/replace/delete gatewayroutes`, in effect).

use errchain::Flat;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ObjectMeta, PostParams};
use kube::{Client, ResourceExt};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;
use topology::Topology;

/// The label marking routeagent's objects.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// Its value.
pub const OWNER: &str = "routeagent";

/// Which of the two kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RouteKind {
    /// `GatewayRoute` (`gatewayroutes`, short name `gwrt`).
    Gateway,
    /// `NonGatewayRoute` (`nongatewayroutes`, short name `ngwrt`).
    NonGateway,
}

impl RouteKind {
    /// Both kinds.
    pub const ALL: [RouteKind; 2] = [RouteKind::Gateway, RouteKind::NonGateway];

    /// The kind's API resource (`submariner.io/v1`).
    pub fn api_resource(self) -> ApiResource {
        let (kind, plural) = match self {
            RouteKind::Gateway => ("GatewayRoute", "gatewayroutes"),
            RouteKind::NonGateway => ("NonGatewayRoute", "nongatewayroutes"),
        };
        ApiResource {
            group: "submariner.io".into(),
            version: "v1".into(),
            api_version: "submariner.io/v1".into(),
            kind: kind.into(),
            plural: plural.into(),
        }
    }
}

/// Submariner's `RoutePolicySpec`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutePolicySpec {
    /// The next hops to reach the remote CIDRs.
    #[serde(rename = "nextHops", default)]
    pub next_hops: Vec<String>,
    /// The remote CIDRs reachable through them.
    #[serde(rename = "remoteCIDRs", default)]
    pub remote_cidrs: Vec<String>,
}

/// One object routeagent wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteObject {
    /// Its kind.
    pub kind: RouteKind,
    /// Its name (the remote cluster's id).
    pub name: String,
    /// Its spec.
    pub spec: RoutePolicySpec,
}

/// The objects `node` wants: `None` unless it is the active gateway and
/// its `ovn-k8s-mp0` address `mp0` is known (then other writers' objects
/// are left alone); NonGatewayRoutes only under interconnect (the node has
/// a transit switch address).
pub fn wanted(topo: &Topology, node: &str, mp0: Option<IpAddr>) -> Option<Vec<RouteObject>> {
    if !topo.is_gateway(node) {
        return None;
    }
    let mp0 = mp0?;
    let transit = topo
        .node(node)
        .ok()
        .and_then(|n| n.ovn.as_ref()?.transit_switch_ip);
    let mut out = Vec::new();
    for r in &topo.remote_clusters {
        let remote_cidrs: Vec<String> = r.subnets.iter().map(|s| s.to_string()).collect();
        let hops = [
            (RouteKind::Gateway, Some(mp0)),
            (RouteKind::NonGateway, transit.map(IpAddr::V4)),
        ];
        for (kind, hop) in hops {
            if let Some(hop) = hop {
                out.push(RouteObject {
                    kind,
                    name: r.id.clone(),
                    spec: RoutePolicySpec {
                        next_hops: vec![hop.to_string()],
                        remote_cidrs: remote_cidrs.clone(),
                    },
                });
            }
        }
    }
    Some(out)
}

/// A request that failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot {verb} submariner.io {plural} {name:?} in namespace {namespace} (the service account needs get, list, create, update and delete on gatewayroutes and nongatewayroutes, as deploy/rbac.yaml and Submariner's operator grant)")]
pub struct RouteObjectsError {
    /// `list`, `create`, `replace` or `delete`.
    pub verb: &'static str,
    /// The kind's plural.
    pub plural: String,
    /// The object (empty for a list).
    pub name: String,
    /// The namespace.
    pub namespace: String,
    /// The cause.
    #[source]
    pub source: Flat<kube::Error>,
}

/// What one [`RouteObjects::keep`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kept {
    /// `kind/name` created, replaced or deleted.
    pub changed: Vec<String>,
    /// `kind/name` not wanted and not routeagent's: left alone.
    pub left: Vec<String>,
}

/// The writer, in the Submariner namespace.
pub struct RouteObjects {
    client: Client,
    namespace: String,
}

impl RouteObjects {
    /// Writes in `namespace` (`SUBMARINER_NAMESPACE`).
    pub fn new(client: Client, namespace: &str) -> RouteObjects {
        RouteObjects {
            client,
            namespace: namespace.into(),
        }
    }

    /// Makes the namespace's objects of both kinds what `want` says (see
    /// the module doc).
    pub async fn keep(&self, want: &[RouteObject]) -> Result<Kept, RouteObjectsError> {
        let mut kept = Kept::default();
        for kind in RouteKind::ALL {
            let ar = kind.api_resource();
            let api: Api<DynamicObject> =
                Api::namespaced_with(self.client.clone(), &self.namespace, &ar);
            let fail = |verb, name: &str, e| RouteObjectsError {
                verb,
                plural: ar.plural.clone(),
                name: name.into(),
                namespace: self.namespace.clone(),
                source: Flat(e),
            };
            let have: BTreeMap<String, DynamicObject> = api
                .list(&Default::default())
                .await
                .map_err(|e| fail("list", "", e))?
                .items
                .into_iter()
                .map(|o| (o.name_any(), o))
                .collect();
            let wanted: BTreeMap<&str, &RoutePolicySpec> = want
                .iter()
                .filter(|w| w.kind == kind)
                .map(|w| (w.name.as_str(), &w.spec))
                .collect();
            for (name, spec) in &wanted {
                let label = |name: &str| format!("{}/{name}", ar.plural);
                match have.get(*name) {
                    Some(o) if ours(o) && spec_of(o).as_ref() == Some(*spec) => {}
                    Some(o) => {
                        let obj = object(&ar, name, spec, o.resource_version());
                        api.replace(name, &PostParams::default(), &obj)
                            .await
                            .map_err(|e| fail("replace", name, e))?;
                        kept.changed.push(label(name));
                    }
                    None => {
                        let obj = object(&ar, name, spec, None);
                        api.create(&PostParams::default(), &obj)
                            .await
                            .map_err(|e| fail("create", name, e))?;
                        kept.changed.push(label(name));
                    }
                }
            }
            for (name, o) in &have {
                if wanted.contains_key(name.as_str()) {
                    continue;
                }
                if !ours(o) {
                    kept.left.push(format!("{}/{name}", ar.plural));
                    continue;
                }
                match api.delete(name, &DeleteParams::default()).await {
                    Ok(_) => kept.changed.push(format!("{}/{name}", ar.plural)),
                    Err(kube::Error::Api(s)) if s.code == 404 => {}
                    Err(e) => return Err(fail("delete", name, e)),
                }
            }
        }
        Ok(kept)
    }
}

fn ours(o: &DynamicObject) -> bool {
    o.labels().get(MANAGED_BY).map(String::as_str) == Some(OWNER)
}

fn spec_of(o: &DynamicObject) -> Option<RoutePolicySpec> {
    serde_json::from_value(o.data.get("spec")?.clone()).ok()
}

fn object(
    ar: &ApiResource,
    name: &str,
    spec: &RoutePolicySpec,
    rv: Option<String>,
) -> DynamicObject {
    let mut o = DynamicObject::new(name, ar);
    o.metadata = ObjectMeta {
        name: Some(name.into()),
        labels: Some(BTreeMap::from([(MANAGED_BY.into(), OWNER.into())])),
        resource_version: rv,
        ..Default::default()
    };
    o.data = serde_json::json!({ "spec": spec });
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "cluster:\n  id: a\n  cni: ovn-kubernetes\n  clusterCIDRs: [10.128.0.0/14]\n  serviceCIDRs: [172.30.0.0/16]\n  nodes:\n    - {name: a1, ip: 10.1.0.1, ovn: {zone: a1, transitSwitchIP: 100.88.0.2}}\n    - {name: a2, ip: 10.1.0.2}\n  gateways:\n    - {hostname: a1, privateIP: 10.1.0.1}\nremoteClusters:\n  - id: b\n    subnets: [10.132.0.0/14, 172.31.0.0/16]\n    gateway: {hostname: b1, privateIP: 10.2.0.1}\n";

    #[test]
    fn the_gateway_wants_one_of_each_per_remote_cluster() {
        let t = Topology::from_yaml(YAML).unwrap();
        let mp0: IpAddr = "10.128.0.2".parse().unwrap();
        let w = wanted(&t, "a1", Some(mp0)).unwrap();
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].kind, RouteKind::Gateway);
        assert_eq!(w[0].name, "b");
        assert_eq!(w[0].spec.next_hops, ["10.128.0.2"]);
        assert_eq!(w[0].spec.remote_cidrs, ["10.132.0.0/14", "172.31.0.0/16"]);
        assert_eq!(w[1].kind, RouteKind::NonGateway);
        assert_eq!(w[1].spec.next_hops, ["100.88.0.2"]);
        assert_eq!(
            serde_json::to_value(&w[0].spec).unwrap(),
            serde_json::json!({"nextHops": ["10.128.0.2"], "remoteCIDRs": ["10.132.0.0/14", "172.31.0.0/16"]})
        );
        assert_eq!(wanted(&t, "a2", Some(mp0)), None);
        assert_eq!(wanted(&t, "a1", None), None);
        // Without interconnect: GatewayRoutes only.
        let mut t = t;
        t.cluster.nodes[0].ovn = None;
        let w = wanted(&t, "a1", Some(mp0)).unwrap();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].kind, RouteKind::Gateway);
    }
}
