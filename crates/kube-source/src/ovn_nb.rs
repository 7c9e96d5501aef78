//! The OVN northbound database in Kubernetes mode, as Submariner's route
//! agent finds it: [`nb_config`] takes `OVN_NB_DB` if set, else reads
//! what the rules of [`ovn::discovery`] need from the API ([`facts`]:
//! `kubectl get node`, `get networks.config.openshift.io cluster`,
//! `get pods -A -l app=ovnkube-node`, `get service ovnkube-db`,
//! `get pods -A -l name=ovnkube-db`, `get endpoints -n NS`) and lets the
//! pure decision choose. For `ssl:` the certificate, key and CA are
//! [`ApiTls`]: `secret://`/`configmap://` values (upstream's defaults when
//! unset) read through the API, files from disk, again before every
//! connection attempt, so a rotated certificate is used from the next
//! reconnect on. Errors name the variable, the object and the fix (the
//! RBAC rule to add on `403`); the caller turns them into the OVN side's
//! `degraded` reason.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use errchain::Chain;
use k8s_openapi::api::core::v1::{ConfigMap, Endpoints, Node, Pod, Secret, Service};
use kube::api::{ApiResource, DynamicObject, ListParams};
use kube::{Api, Client};
use ovn::config::{default_socket, endpoint_from_vars, PemRef, TlsRefs, NB_DB_VAR};
use ovn::discovery::{decide, Facts, ZoneEndpoints};
use ovn::NbConfig;
use ovsdb::tls::BoxFuture;
use ovsdb::{Pem, TlsPem, TlsSource};

/// The variable that turns upstream's `ovnkube-db` endpoint into `tcp:`
/// when `no`.
pub const SSL_ENABLE_VAR: &str = "OVN_SSL_ENABLE";
/// The manifest granting what discovery reads.
const RBAC_FILE: &str = "deploy/rbac-ovn.yaml";

/// The database configuration for node `node`: `OVN_NB_DB`, else
/// discovery, else the usual sockets (`exists` says which exist); TLS
/// through [`ApiTls`] for `ssl:`.
pub async fn nb_config(
    client: &Client,
    node: &str,
    var: impl Fn(&str) -> Option<String>,
    exists: impl Fn(&Path) -> bool,
) -> ovn::Result<NbConfig> {
    let (endpoint, origin) = match endpoint_from_vars(&var)? {
        Some(e) => (e, NB_DB_VAR.to_string()),
        None => {
            let ssl = var(SSL_ENABLE_VAR).is_none_or(|v| v.trim() != "no");
            let f = facts(client, node, ssl).await.map_err(|reason| ovn::Error::Config {
                var: NB_DB_VAR,
                reason: format!("unset, and discovery through the Kubernetes API failed: {reason}; or set OVN_NB_DB"),
            })?;
            match decide(&f) {
                Some(d) => (d.endpoint, format!("discovered: {}", d.rule)),
                None => {
                    let (e, why) = default_socket(exists);
                    (e, format!("no discovery rule matched; {why}"))
                }
            }
        }
    };
    let tls = if endpoint.is_tls() {
        let refs = TlsRefs::from_vars(&var, true)?;
        Some(Arc::new(ApiTls {
            client: client.clone(),
            refs,
        }) as Arc<dyn TlsSource>)
    } else {
        None
    };
    Ok(NbConfig {
        endpoint,
        origin,
        tls,
    })
}

/// A failed read, worded with the fix: on `403` the RBAC rule to add.
fn failed(what: &str, rule: &str, e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) if s.code == 403 => {
            format!("{what}: forbidden; grant the service account {rule} ({RBAC_FILE})")
        }
        other => format!("{what}: {}", Chain(other)),
    }
}

/// The namespace of the first pod labelled `selector`, in any namespace.
async fn pod_namespace(client: &Client, selector: &str) -> Result<Option<String>, String> {
    let pods: Api<Pod> = Api::all(client.clone());
    let list = pods
        .list(&ListParams::default().labels(selector).limit(1))
        .await
        .map_err(|e| {
            failed(
                &format!("list pods -l {selector} in all namespaces"),
                "list on pods (ClusterRole)",
                &e,
            )
        })?;
    Ok(list.items.into_iter().find_map(|p| p.metadata.namespace))
}

/// What the discovery rules need, read in their order (later reads only
/// when an earlier rule did not decide).
pub async fn facts(client: &Client, node: &str, ssl: bool) -> Result<Facts, String> {
    let n = Api::<Node>::all(client.clone())
        .get(node)
        .await
        .map_err(|e| failed(&format!("get node {node}"), "get on nodes", &e))?;
    // The zone as the topology reads it (`k8s.ovn.org/zone-name`).
    let zone = crate::ovn_node::ovn_node(&n).0.and_then(|o| o.zone);
    let network = ApiResource {
        group: "config.openshift.io".into(),
        version: "v1".into(),
        api_version: "config.openshift.io/v1".into(),
        kind: "Network".into(),
        plural: "networks".into(),
    };
    let openshift = Api::<DynamicObject>::all_with(client.clone(), &network)
        .get_opt("cluster")
        .await
        .map_err(|e| {
            failed(
                "get networks.config.openshift.io cluster",
                "get on networks.config.openshift.io",
                &e,
            )
        })?
        .is_some();
    let mut f = Facts {
        zone,
        openshift,
        ssl,
        node_namespace: pod_namespace(client, "app=ovnkube-node").await?,
        ..Facts::default()
    };
    if openshift {
        if let Some(ns) = &f.node_namespace {
            f.db_service = Api::<Service>::namespaced(client.clone(), ns)
                .get_opt("ovnkube-db")
                .await
                .map_err(|e| {
                    failed(
                        &format!("get service {ns}/ovnkube-db"),
                        "get on services (ClusterRole)",
                        &e,
                    )
                })?
                .is_some();
        }
        return Ok(f);
    }
    f.db_pod_namespace = pod_namespace(client, "name=ovnkube-db").await?;
    if f.db_pod_namespace.is_some() || f.zone.is_none() {
        return Ok(f);
    }
    if let Some(ns) = f.node_namespace.clone() {
        let list = Api::<Endpoints>::namespaced(client.clone(), &ns)
            .list(&ListParams::default())
            .await
            .map_err(|e| {
                failed(
                    &format!("list endpoints in {ns}"),
                    "list on endpoints (core, ClusterRole)",
                    &e,
                )
            })?;
        f.endpoints = list.items.iter().map(zone_endpoints).collect();
    }
    Ok(f)
}

/// An `Endpoints` object as the rules see it (all subsets' ports and
/// addresses, in order).
fn zone_endpoints(e: &Endpoints) -> ZoneEndpoints {
    let subsets = e.subsets.as_deref().unwrap_or_default();
    ZoneEndpoints {
        name: e.metadata.name.clone().unwrap_or_default(),
        ports: subsets
            .iter()
            .flat_map(|s| s.ports.iter().flatten())
            .map(|p| {
                (
                    p.name.clone().unwrap_or_default(),
                    p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                )
            })
            .collect(),
        ips: subsets
            .iter()
            .flat_map(|s| s.addresses.iter().flatten())
            .map(|a| a.ip.clone())
            .collect(),
    }
}

/// The certificate, key and CA named by `OVN_CERT`, `OVN_PK`, `OVN_CA`
/// (files, `secret://`, `configmap://`), read at every connection attempt.
#[derive(Clone)]
pub struct ApiTls {
    client: Client,
    refs: TlsRefs,
}

impl std::fmt::Debug for ApiTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiTls").field("refs", &self.refs).finish()
    }
}

impl ApiTls {
    /// Reads `refs` through `client`.
    pub fn new(client: Client, refs: TlsRefs) -> ApiTls {
        ApiTls { client, refs }
    }

    async fn read(&self, what: &'static str, var: &str, r: &PemRef) -> ovsdb::Result<Pem> {
        let origin = r.to_string();
        let bad = |reason: String| ovsdb::Error::TlsFile {
            what,
            origin: origin.clone(),
            reason,
        };
        let (kind, rule, namespace, name, key) = match r {
            PemRef::File(p) => return ovsdb::tls::read(p, what),
            PemRef::Secret {
                namespace,
                name,
                key,
            } => ("Secret", "secrets", namespace, name, key),
            PemRef::ConfigMap {
                namespace,
                name,
                key,
            } => ("ConfigMap", "configmaps", namespace, name, key),
        };
        let keys: BTreeMap<String, Vec<u8>> = if kind == "Secret" {
            let s = Api::<Secret>::namespaced(self.client.clone(), namespace)
                .get_opt(name)
                .await;
            s.map(|o| {
                o.map(|s| {
                    s.data
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(k, v)| (k, v.0))
                        .collect()
                })
            })
        } else {
            let c = Api::<ConfigMap>::namespaced(self.client.clone(), namespace)
                .get_opt(name)
                .await;
            c.map(|o| {
                o.map(|c| {
                    let text = c.data.unwrap_or_default().into_iter();
                    let binary = c.binary_data.unwrap_or_default().into_iter();
                    text.map(|(k, v)| (k, v.into_bytes()))
                        .chain(binary.map(|(k, v)| (k, v.0)))
                        .collect()
                })
            })
        }
        .map_err(|e| match &e {
            kube::Error::Api(s) if s.code == 403 => bad(format!(
                "forbidden; grant the service account get on {rule} {name} in namespace {namespace} (a Role there, as deploy/rbac-ovn-openshift.yaml), or point {var} elsewhere"
            )),
            other => bad(format!("cannot read {kind} {namespace}/{name}: {}", Chain(other))),
        })?
        .ok_or_else(|| {
            bad(format!(
                "{kind} {namespace}/{name} not found; create it, or set {var} to the right secret://, configmap:// or file path"
            ))
        })?;
        match keys.get(key.as_str()) {
            Some(bytes) => Ok(Pem {
                origin: origin.clone(),
                bytes: bytes.clone(),
            }),
            None => Err(bad(format!(
                "{kind} {namespace}/{name} has no key {key} (it has: {}); fix {var}",
                keys.keys().cloned().collect::<Vec<_>>().join(", ")
            ))),
        }
    }
}

impl TlsSource for ApiTls {
    fn load(&self) -> BoxFuture<'_, ovsdb::Result<TlsPem>> {
        Box::pin(async move {
            Ok(TlsPem::new(
                self.read("certificate (OVN_CERT)", "OVN_CERT", &self.refs.cert)
                    .await?,
                self.read("private key (OVN_PK)", "OVN_PK", &self.refs.key)
                    .await?,
                self.read("CA (OVN_CA)", "OVN_CA", &self.refs.ca).await?,
            ))
        })
    }

    fn describe(&self) -> String {
        let r = &self.refs;
        let mut s = format!("cert {}, key {}, CA {}", r.cert, r.key, r.ca);
        if !r.defaulted.is_empty() {
            s += &format!(" ({} unset: upstream's defaults)", r.defaulted.join(", "));
        }
        s
    }
}
