//! [`decide`]: where the northbound database is when `OVN_NB_DB` is unset,
//! from what the Kubernetes API answered ([`Facts`]), by Submariner's
//! rules: on OpenShift, the `ovnkube-db` Service next to the
//! `app=ovnkube-node` pods (`ssl:ovnkube-db.NS.svc.cluster.local:9641`),
//! else the interconnect socket; elsewhere pods `name=ovnkube-db`
//! (`ssl:`/`tcp:ovnkube-db.NS:6641`), else the Endpoints of this node's
//! zone with a `north` port. Pure: the Kubernetes source reads the facts.

use ovsdb::Endpoint;

/// The OpenShift interconnect socket (no `ovnkube-db` Service).
pub const OPENSHIFT_IC_SOCKET: &str = "/var/run/ovn-ic/ovnnb_db.sock";
/// The northbound port of upstream OVN-Kubernetes' database.
pub const NB_PORT: u16 = 6641;
/// The northbound port of OpenShift's `ovnkube-db` Service.
pub const OPENSHIFT_NB_PORT: u16 = 9641;

/// What the Kubernetes API answered, as far as the rules need it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// The node's `k8s.ovn.org/zone-name` annotation.
    pub zone: Option<String>,
    /// Whether `networks.config.openshift.io` `cluster` exists.
    pub openshift: bool,
    /// The namespace of pods labelled `app=ovnkube-node`.
    pub node_namespace: Option<String>,
    /// Whether Service `ovnkube-db` exists in `node_namespace`.
    pub db_service: bool,
    /// The namespace of a pod labelled `name=ovnkube-db`.
    pub db_pod_namespace: Option<String>,
    /// `OVN_SSL_ENABLE` is not `no`.
    pub ssl: bool,
    /// Endpoints objects in `node_namespace`.
    pub endpoints: Vec<ZoneEndpoints>,
}

/// One core `Endpoints` object, reduced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ZoneEndpoints {
    /// Its name.
    pub name: String,
    /// Its ports' (name, protocol) pairs.
    pub ports: Vec<(String, String)>,
    /// Its addresses, in order.
    pub ips: Vec<String>,
}

/// An endpoint found by a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    /// Where the database is.
    pub endpoint: Endpoint,
    /// Which rule found it, for `doctor` and the log.
    pub rule: String,
}

/// Submariner's rules in order; `None`: no rule matched (the caller uses
/// the usual sockets).
pub fn decide(f: &Facts) -> Option<Discovered> {
    let found = |endpoint, rule: String| Some(Discovered { endpoint, rule });
    if f.openshift {
        return match (&f.node_namespace, f.db_service) {
            (Some(ns), true) => found(
                Endpoint::Ssl {
                    host: format!("ovnkube-db.{ns}.svc.cluster.local"),
                    port: OPENSHIFT_NB_PORT,
                },
                format!("OpenShift: Service {ns}/ovnkube-db next to the app=ovnkube-node pods"),
            ),
            _ => found(
                Endpoint::Unix(OPENSHIFT_IC_SOCKET.into()),
                "OpenShift without an ovnkube-db Service (interconnect): the node's socket".into(),
            ),
        };
    }
    if let Some(ns) = &f.db_pod_namespace {
        let host = format!("ovnkube-db.{ns}");
        let endpoint = if f.ssl {
            Endpoint::Ssl {
                host,
                port: NB_PORT,
            }
        } else {
            Endpoint::Tcp {
                host,
                port: NB_PORT,
            }
        };
        return found(
            endpoint,
            format!("pods name=ovnkube-db in {ns} (OVN_SSL_ENABLE decides ssl/tcp)"),
        );
    }
    let zone = f.zone.as_deref().filter(|z| !z.is_empty())?;
    f.endpoints
        .iter()
        .filter(|e| e.name.contains(zone))
        .find_map(|e| {
            let (_, proto) = e.ports.iter().find(|(n, _)| n.contains("north"))?;
            let ip = e.ips.first()?;
            let host = if ip.contains(':') {
                format!("[{ip}]")
            } else {
                ip.clone()
            };
            // `TCP` -> `tcp:`; another protocol is no OVSDB endpoint.
            let text = format!("{}:{host}:{NB_PORT}", proto.to_ascii_lowercase());
            let endpoint = Endpoint::parse(&text).ok()?;
            Some(Discovered {
                endpoint,
                rule: format!(
                    "Endpoints {} (zone {zone}, a north port) in {}",
                    e.name,
                    f.node_namespace.as_deref().unwrap_or("?")
                ),
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(f: &Facts) -> Option<String> {
        decide(f).map(|d| d.endpoint.to_string())
    }

    #[test]
    fn openshift_service_or_interconnect_socket() {
        let mut f = Facts {
            openshift: true,
            node_namespace: Some("openshift-ovn-kubernetes".into()),
            db_service: true,
            // Ignored on OpenShift.
            db_pod_namespace: Some("x".into()),
            ..Facts::default()
        };
        assert_eq!(
            ep(&f).as_deref(),
            Some("ssl:ovnkube-db.openshift-ovn-kubernetes.svc.cluster.local:9641")
        );
        f.db_service = false;
        assert_eq!(
            ep(&f).as_deref(),
            Some("unix:/var/run/ovn-ic/ovnnb_db.sock")
        );
        f.node_namespace = None;
        f.db_service = true;
        let d = decide(&f).unwrap();
        assert_eq!(d.endpoint.to_string(), "unix:/var/run/ovn-ic/ovnnb_db.sock");
        assert!(d.rule.contains("interconnect"), "{}", d.rule);
    }

    #[test]
    fn upstream_db_pods_ssl_unless_disabled() {
        let mut f = Facts {
            db_pod_namespace: Some("ovn-kubernetes".into()),
            ssl: true,
            ..Facts::default()
        };
        assert_eq!(
            ep(&f).as_deref(),
            Some("ssl:ovnkube-db.ovn-kubernetes:6641")
        );
        f.ssl = false;
        assert_eq!(
            ep(&f).as_deref(),
            Some("tcp:ovnkube-db.ovn-kubernetes:6641")
        );
    }

    #[test]
    fn zone_endpoints_with_a_north_port() {
        let e = |name: &str, port: &str, ips: &[&str]| ZoneEndpoints {
            name: name.into(),
            ports: vec![(port.into(), "TCP".into())],
            ips: ips.iter().map(|s| s.to_string()).collect(),
        };
        let mut f = Facts {
            zone: Some("zone-b".into()),
            node_namespace: Some("ovn-kubernetes".into()),
            endpoints: vec![
                e("ovnkube-db-zone-a", "north", &["10.0.0.1"]),
                e("ovnkube-db-zone-b", "south", &["10.0.0.2"]),
                e("ovnkube-db-zone-b-nb", "north", &[]),
                e("ovnkube-db-zone-b-x", "ovn-north", &["fd00::3", "10.0.0.4"]),
            ],
            ..Facts::default()
        };
        let d = decide(&f).unwrap();
        assert_eq!(d.endpoint.to_string(), "tcp:[fd00::3]:6641");
        assert!(d.rule.contains("ovnkube-db-zone-b-x"), "{}", d.rule);
        f.endpoints.pop();
        assert_eq!(ep(&f), None, "no address, or no north port");
        f.endpoints.push(e("zone-b", "north", &["10.0.0.5"]));
        f.zone = None;
        assert_eq!(ep(&f), None, "no zone: the rule cannot match");
        f.zone = Some("zone-b".into());
        assert_eq!(ep(&f).as_deref(), Some("tcp:10.0.0.5:6641"));
        assert_eq!(ep(&Facts::default()), None);
    }
}
