//! [`build_topology`]: the pure function from (config, Nodes, Endpoints,
//! this node) to a [`Topology`]. Objects that cannot be used are skipped
//! with a [`Skipped`] naming them; the rest is kept.
//!
//! Rules (Submariner's, minus its bugs):
//! - nodes: every Node with an IPv4 InternalIP;
//! - local gateways: the local Endpoints, newest first, one per node; the
//!   active one (listed first) is this node's if it has one (matched by
//!   `NODE_NAME` or by OS host name, issue #736), else the newest;
//! - remote clusters: per cluster id the newest usable Endpoint.

use crate::backend::{backend, backend_config};
use crate::config::KubeConfig;
use crate::crd::{Endpoint, EndpointSpec};
use ipnet::IpNet;
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;
use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::net::IpAddr;
use topology::{LocalCluster, RemoteCluster, Topology, Tunables};

/// Node annotation holding a fixed MSS clamp value.
pub const MSS_ANNOTATION: &str = "submariner.io/tcp-clamp-mss";

/// Why no topology could be built at all.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// `NODE_NAME` is not among the Nodes the API returned.
    #[error("node {node:?} (NODE_NAME) is not among the cluster's {known} usable Nodes; check that NODE_NAME comes from spec.nodeName and that the Node has an IPv4 InternalIP")]
    ThisNodeMissing {
        /// NODE_NAME.
        node: String,
        /// How many usable nodes there are.
        known: usize,
    },
    /// The assembled topology breaks a rule (usually the SUBMARINER_* CIDRs).
    #[error("the topology built from SUBMARINER_* and the cluster's objects is invalid (check SUBMARINER_CLUSTERID, SUBMARINER_CLUSTERCIDR and SUBMARINER_SERVICECIDR)")]
    Invalid(#[source] topology::TopologyError),
}

/// An object left out of the topology, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// `Endpoint` or `Node`.
    pub kind: &'static str,
    /// Object name.
    pub name: String,
    /// What is wrong and what to do.
    pub reason: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?} skipped: {}", self.kind, self.name, self.reason)
    }
}

/// The result of [`build_topology`].
#[derive(Debug, Clone)]
pub struct Built {
    /// The topology (validated).
    pub topology: Topology,
    /// The spec of each remote cluster's chosen Endpoint, in the order of
    /// `topology.remote_clusters` (for health checks and the status).
    pub remote_endpoints: Vec<EndpointSpec>,
    /// Objects left out.
    pub skipped: Vec<Skipped>,
    /// Things worth a log line (host name mismatches, duplicates).
    pub notes: Vec<String>,
}

struct NodeInfo {
    name: String,
    ips: Vec<IpAddr>,
    ip: IpAddr,
    ovn: Option<topology::OvnNode>,
}

struct Candidate<'a> {
    name: String,
    created: Option<Time>,
    spec: &'a EndpointSpec,
    subnets: Vec<IpNet>,
    private_ip: IpAddr,
    public_ip: Option<IpAddr>,
    health_check_ip: Option<IpAddr>,
}

fn ipv4_unicast(ip: &IpAddr) -> bool {
    matches!(ip, IpAddr::V4(v4) if !v4.is_unspecified() && !v4.is_loopback() && !v4.is_multicast() && !v4.is_broadcast())
}

/// Cluster ids are DNS-1123 labels (the topology crate's rule).
fn valid_cluster_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 63
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.starts_with('-')
        && !id.ends_with('-')
}

fn node_info(n: &Node) -> Result<NodeInfo, String> {
    let ips: Vec<IpAddr> = n
        .status
        .as_ref()
        .and_then(|s| s.addresses.as_ref())
        .into_iter()
        .flatten()
        .filter(|a| a.type_ == "InternalIP")
        .filter_map(|a| a.address.parse().ok())
        .filter(ipv4_unicast)
        .collect();
    match ips.first() {
        Some(ip) => Ok(NodeInfo {
            name: n.name_any(),
            ip: *ip,
            ips,
            ovn: None,
        }),
        None => Err(
            "has no IPv4 InternalIP in status.addresses; the kubelet sets it (check --node-ip)"
                .into(),
        ),
    }
}

fn candidate(ep: &Endpoint) -> Result<Candidate<'_>, String> {
    let spec = &ep.spec;
    let mut subnets = Vec::new();
    for s in &spec.subnets {
        let net: IpNet = s
            .trim()
            .parse()
            .map_err(|_| format!("subnet {s:?} is not a CIDR; fix the Endpoint's spec.subnets"))?;
        if net.addr() != net.network() {
            return Err(format!("subnet {s:?} has host bits set (did you mean {}?); fix the Endpoint's spec.subnets", net.trunc()));
        }
        subnets.push(net);
    }
    let bad = |field: &str, text: String| format!("{field} {text:?} is not an IP address");
    let private_ip = spec
        .private_ip_v4()
        .map_err(|t| bad("private_ip", t))?
        .ok_or("has no private_ip / private_ips")?;
    if !ipv4_unicast(&private_ip) {
        return Err(format!(
            "private_ip {private_ip} is not an IPv4 unicast address; tunnels need IPv4"
        ));
    }
    let public_ip = spec.public_ip_v4().map_err(|t| bad("public_ip", t))?;
    if let Some(p) = public_ip.filter(|p| !ipv4_unicast(p)) {
        return Err(format!("public_ip {p} is not an IPv4 unicast address"));
    }
    let health_check_ip = spec
        .health_check_ip_v4()
        .map_err(|t| bad("healthCheckIP", t))?;
    Ok(Candidate {
        name: ep.name_any(),
        created: ep.creation_timestamp(),
        spec,
        subnets,
        private_ip,
        public_ip,
        health_check_ip,
    })
}

/// Builds the topology this node should converge to; see the module doc.
/// `this_node` is `NODE_NAME`, `os_hostname` the kernel's host name.
pub fn build_topology<N: Borrow<Node>, E: Borrow<Endpoint>>(
    cfg: &KubeConfig,
    nodes: &[N],
    endpoints: &[E],
    this_node: &str,
    os_hostname: &str,
) -> Result<Built, BuildError> {
    let mut skipped = Vec::new();
    let mut notes = Vec::new();
    let skip = |skipped: &mut Vec<Skipped>, kind, name: &str, reason: String| {
        skipped.push(Skipped {
            kind,
            name: name.to_string(),
            reason,
        })
    };

    // Nodes, by name; IPs unique.
    let mut infos: Vec<NodeInfo> = Vec::new();
    let mut sorted: Vec<&Node> = nodes.iter().map(Borrow::borrow).collect();
    sorted.sort_by_key(|n| n.name_any());
    for n in sorted {
        match node_info(n) {
            Ok(i) if infos.iter().any(|o| o.ip == i.ip) => skip(
                &mut skipped,
                "Node",
                &i.name,
                format!("its InternalIP {} is also another node's", i.ip),
            ),
            Ok(mut i) => {
                if cfg.network_plugin.datapath() == Ok(topology::Datapath::Ovn) {
                    let (ovn, bad) = crate::ovn_node::ovn_node(n);
                    i.ovn = ovn;
                    notes.extend(bad);
                }
                infos.push(i)
            }
            Err(r) => skip(&mut skipped, "Node", &n.name_any(), r),
        }
    }
    if !infos.iter().any(|i| i.name == this_node) {
        return Err(BuildError::ThisNodeMissing {
            node: this_node.into(),
            known: infos.len(),
        });
    }
    if this_node != os_hostname {
        notes.push(format!("NODE_NAME {this_node:?} differs from the OS host name {os_hostname:?}; Endpoints naming either are this node's"));
    }

    // Endpoints that parse, split local / remote, newest first.
    let mut local: Vec<Candidate> = Vec::new();
    let mut remote: BTreeMap<&str, Vec<Candidate>> = BTreeMap::new();
    for ep in endpoints.iter().map(Borrow::borrow) {
        match candidate(ep) {
            Err(r) => skip(&mut skipped, "Endpoint", &ep.name_any(), r),
            Ok(c) if c.spec.cluster_id == cfg.cluster_id => local.push(c),
            Ok(c) => remote
                .entry(c.spec.cluster_id.as_str())
                .or_default()
                .push(c),
        }
    }
    let newest_first =
        |a: &Candidate, b: &Candidate| b.created.cmp(&a.created).then_with(|| a.name.cmp(&b.name));
    local.sort_by(newest_first);

    // Local gateways: resolve each Endpoint's host name to a node.
    let resolve = |c: &Candidate| -> Option<usize> {
        let h = c.spec.hostname.as_str();
        let short = |s: &str| s.split('.').next().unwrap_or(s).to_string();
        infos
            .iter()
            .position(|i| i.name == h)
            .or_else(|| {
                (h == os_hostname)
                    .then(|| infos.iter().position(|i| i.name == this_node))
                    .flatten()
            })
            .or_else(|| infos.iter().position(|i| short(&i.name) == short(h)))
            .or_else(|| infos.iter().position(|i| i.ips.contains(&c.private_ip)))
    };
    let mut resolved: Vec<(usize, &Candidate)> = Vec::new();
    for c in &local {
        match resolve(c) {
            None => skip(
                &mut skipped,
                "Endpoint",
                &c.name,
                format!(
                    "its hostname {:?} and private_ip {} match none of the cluster's Nodes",
                    c.spec.hostname, c.private_ip
                ),
            ),
            Some(i) if resolved.iter().any(|(j, _)| *j == i) => notes.push(format!(
                "Endpoint {:?} is an older Endpoint of node {:?}; ignored",
                c.name, infos[i].name
            )),
            Some(i) => {
                if infos[i].name != c.spec.hostname {
                    notes.push(format!(
                        "Endpoint {:?} hostname {:?} is node {:?}",
                        c.name, c.spec.hostname, infos[i].name
                    ));
                }
                resolved.push((i, c));
            }
        }
    }
    if let Some(pos) = resolved
        .iter()
        .position(|(i, _)| infos[*i].name == this_node)
    {
        let mine = resolved.remove(pos);
        resolved.insert(0, mine);
    }
    let mut gateways = Vec::new();
    for (i, c) in resolved {
        let used = infos.iter().any(|o| o.ip == c.private_ip);
        let info = &mut infos[i];
        if c.private_ip != info.ip {
            if info.ips.contains(&c.private_ip) && !used {
                info.ip = c.private_ip;
            } else {
                notes.push(format!(
                    "Endpoint {:?} private_ip {} is not an InternalIP of node {:?}; using {}",
                    c.name, c.private_ip, info.name, info.ip
                ));
            }
        }
        gateways.push(topology::Endpoint {
            hostname: info.name.clone(),
            private_ip: info.ip,
            public_ip: c.public_ip,
            health_check_ip: c.health_check_ip,
            backend: backend(c.spec),
            backend_config: backend_config(&c.name, c.spec, &mut notes),
        });
    }

    // Remote clusters: newest usable Endpoint per cluster; no overlaps.
    let mut taken: Vec<IpNet> = cfg
        .cluster_cidrs
        .iter()
        .chain(&cfg.service_cidrs)
        .chain(&cfg.global_cidr)
        .copied()
        .collect();
    let mut cable_ips: Vec<IpAddr> = gateways.first().map(|g| g.cable_ip()).into_iter().collect();
    let mut remote_clusters = Vec::new();
    let mut remote_endpoints = Vec::new();
    for (id, mut cands) in remote {
        cands.sort_by(newest_first);
        if !valid_cluster_id(id) {
            for c in &cands {
                skip(&mut skipped, "Endpoint", &c.name, format!("cluster_id {id:?} is not a DNS label (1-63 lowercase letters, digits, '-')"));
            }
            continue;
        }
        let mut chosen = None;
        for c in cands.iter() {
            if c.subnets.is_empty() {
                skip(
                    &mut skipped,
                    "Endpoint",
                    &c.name,
                    "has no subnets; its cluster's gateway must publish them".into(),
                );
            } else if chosen.is_none() {
                chosen = Some(c);
            } else {
                notes.push(format!(
                    "cluster {id:?}: Endpoint {:?} is older than {:?}; ignored",
                    c.name,
                    chosen.map_or("", |x| x.name.as_str())
                ));
            }
        }
        let Some(c) = chosen else { continue };
        let gw = topology::Endpoint {
            hostname: if c.spec.hostname.is_empty() {
                c.name.clone()
            } else {
                c.spec.hostname.clone()
            },
            private_ip: c.private_ip,
            public_ip: c.public_ip,
            health_check_ip: c.health_check_ip,
            backend: backend(c.spec),
            backend_config: backend_config(&c.name, c.spec, &mut notes),
        };
        if let Some(n) = c
            .subnets
            .iter()
            .find(|n| taken.iter().any(|t| t.contains(*n) || n.contains(t)))
        {
            skip(&mut skipped, "Endpoint", &c.name, format!("cluster {id:?} subnet {n} overlaps a local or another remote CIDR; traffic to it cannot be routed (use non-overlapping CIDRs, or Globalnet); the other clusters are unaffected"));
            continue;
        }
        if cable_ips.contains(&gw.cable_ip()) {
            skip(
                &mut skipped,
                "Endpoint",
                &c.name,
                format!("its cable address {} is another gateway's", gw.cable_ip()),
            );
            continue;
        }
        taken.extend(&c.subnets);
        cable_ips.push(gw.cable_ip());
        remote_clusters.push(RemoteCluster {
            id: id.to_string(),
            subnets: c.subnets.clone(),
            gateway: gw,
        });
        remote_endpoints.push(c.spec.clone());
    }

    let mut tunables = Tunables::default();
    let me = nodes
        .iter()
        .map(Borrow::borrow)
        .find(|n| n.name_any() == this_node);
    if let Some(v) = me.and_then(|n| n.annotations().get(MSS_ANNOTATION)) {
        match v.trim().parse::<u16>() {
            Ok(m) if m >= topology::validate::MIN_MSS => tunables.mss = Some(m),
            _ => skip(&mut skipped, "Node", this_node, format!("annotation {MSS_ANNOTATION}={v:?} is not an MSS >= {}; ignored (clamping to the route MTU)", topology::validate::MIN_MSS)),
        }
    }

    let topology = Topology {
        cluster: LocalCluster {
            id: cfg.cluster_id.clone(),
            cluster_cidrs: cfg.cluster_cidrs.clone(),
            service_cidrs: cfg.service_cidrs.clone(),
            cni: cfg.network_plugin.clone(),
            nodes: infos
                .into_iter()
                .map(|i| topology::Node {
                    name: i.name,
                    ip: i.ip,
                    ovn: i.ovn,
                })
                .collect(),
            gateways,
            // The gateway engine owns the cable in Kubernetes.
            cable: None,
            global_cidr: cfg.global_cidr,
        },
        remote_clusters,
        tunables,
    };
    topology.validate().map_err(BuildError::Invalid)?;
    Ok(Built {
        topology,
        remote_endpoints,
        skipped,
        notes,
    })
}
