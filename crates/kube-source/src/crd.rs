//! Submariner's custom resources as Rust types, with Submariner's JSON
//! field names (`cluster_id`, `private_ip`, `healthCheckIP`, ...): the
//! `submariner.io/v1` [`Endpoint`] we read and the [`RouteAgent`] we write.
//!
//! Every field tolerates being absent or `null` (Go writes `null` for nil
//! slices), so objects written by any Submariner version parse.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// API group of Submariner's resources.
pub const GROUP: &str = "submariner.io";
/// API version of Submariner's resources.
pub const VERSION: &str = "v1";
/// `apiVersion` of Submariner's resources.
pub const API_VERSION: &str = "submariner.io/v1";

/// `null` or absent -> `T::default()`.
fn null_default<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Spec of a Submariner `Endpoint` (`kubectl get endpoints.submariner.io`):
/// one gateway of one cluster, written by that cluster's gateway engine and
/// synced to every other cluster by the broker.
#[derive(
    CustomResource, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema,
)]
#[kube(group = "submariner.io", version = "v1", kind = "Endpoint", namespaced)]
pub struct EndpointSpec {
    /// The cluster the gateway belongs to (`SUBMARINER_CLUSTERID` there).
    #[serde(rename = "cluster_id", default, deserialize_with = "null_default")]
    pub cluster_id: String,
    /// Name of the cable (`submariner-cable-<cluster>-<ip>`).
    #[serde(rename = "cable_name", default, deserialize_with = "null_default")]
    pub cable_name: String,
    /// Health-check address (IPv4; deprecated in favour of `healthCheckIPs`).
    #[serde(
        rename = "healthCheckIP",
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub health_check_ip: String,
    /// Health-check addresses, one per IP family (Submariner >= 0.20).
    #[serde(
        rename = "healthCheckIPs",
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub health_check_ips: Vec<String>,
    /// Host name of the gateway node (Go's `os.Hostname()` there).
    #[serde(default, deserialize_with = "null_default")]
    pub hostname: String,
    /// The cluster's pod and service CIDRs (or Globalnet CIDR).
    #[serde(default, deserialize_with = "null_default")]
    pub subnets: Vec<String>,
    /// The gateway's private IP (IPv4; deprecated in favour of `private_ips`).
    #[serde(rename = "private_ip", default, deserialize_with = "null_default")]
    pub private_ip: String,
    /// The gateway's private IPs, one per IP family (Submariner >= 0.20).
    #[serde(
        rename = "private_ips",
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub private_ips: Vec<String>,
    /// The gateway's public IP (IPv4; deprecated in favour of `public_ips`).
    #[serde(rename = "public_ip", default, deserialize_with = "null_default")]
    pub public_ip: String,
    /// The gateway's public IPs, one per IP family (Submariner >= 0.20).
    #[serde(
        rename = "public_ips",
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub public_ips: Vec<String>,
    /// Whether the gateway is behind NAT.
    #[serde(rename = "nat_enabled", default, deserialize_with = "null_default")]
    pub nat_enabled: bool,
    /// Cable driver (`libreswan`, `wireguard`, `vxlan`).
    #[serde(default, deserialize_with = "null_default")]
    pub backend: String,
    /// Driver settings (`interface-name`, `udp-port`, `natt-discovery-port`, ...).
    #[serde(
        rename = "backend_config",
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub backend_config: BTreeMap<String, String>,
}

/// The first address of `plural` (else of `singular`) that parses and is
/// IPv4, else the first that parses; `Err(text)` for the first unparsable
/// one when none parses. `Ok(None)` when both are empty.
fn pick_ip(plural: &[String], singular: &str) -> Result<Option<IpAddr>, String> {
    let texts: Vec<&str> = if plural.iter().any(|s| !s.trim().is_empty()) {
        plural
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect()
    } else if singular.trim().is_empty() {
        return Ok(None);
    } else {
        vec![singular.trim()]
    };
    let mut parsed = Vec::new();
    for t in &texts {
        match t.parse::<IpAddr>() {
            Ok(ip) => parsed.push(ip),
            Err(_) => return Err((*t).to_string()),
        }
    }
    Ok(parsed
        .iter()
        .find(|ip| ip.is_ipv4())
        .or(parsed.first())
        .copied())
}

impl EndpointSpec {
    /// The private IP to use: IPv4 from `private_ips`, else `private_ip`
    /// (Submariner's `GetPrivateIP(IPv4)`). `Err(text)` names a bad value.
    pub fn private_ip_v4(&self) -> Result<Option<IpAddr>, String> {
        pick_ip(&self.private_ips, &self.private_ip)
    }

    /// The public IP, like [`EndpointSpec::private_ip_v4`].
    pub fn public_ip_v4(&self) -> Result<Option<IpAddr>, String> {
        pick_ip(&self.public_ips, &self.public_ip)
    }

    /// The health-check IP, like [`EndpointSpec::private_ip_v4`].
    pub fn health_check_ip_v4(&self) -> Result<Option<IpAddr>, String> {
        pick_ip(&self.health_check_ips, &self.health_check_ip)
    }
}

/// A Submariner `RouteAgent` (`kubectl get routeagents.submariner.io`): one
/// per node, named after the node, holding only a status. Submariner's
/// type has no spec, so this implements [`kube::Resource`] by hand instead
/// of deriving `CustomResource` (which would add a `spec`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RouteAgent {
    /// Always `submariner.io/v1`.
    #[serde(rename = "apiVersion", default)]
    pub api_version: String,
    /// Always `RouteAgent`.
    #[serde(default)]
    pub kind: String,
    /// Object metadata (name = node name).
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The status this agent reports.
    #[serde(default, deserialize_with = "null_default")]
    pub status: RouteAgentStatus,
}

impl RouteAgent {
    /// A RouteAgent named `name` in `namespace` carrying `status`.
    pub fn new(name: &str, namespace: &str, status: RouteAgentStatus) -> Self {
        RouteAgent {
            api_version: API_VERSION.into(),
            kind: "RouteAgent".into(),
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some(namespace.into()),
                ..ObjectMeta::default()
            },
            status,
        }
    }
}

impl kube::Resource for RouteAgent {
    type DynamicType = ();
    type Scope = k8s_openapi::NamespaceResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        "RouteAgent".into()
    }
    fn group(_: &()) -> Cow<'_, str> {
        GROUP.into()
    }
    fn version(_: &()) -> Cow<'_, str> {
        VERSION.into()
    }
    fn plural(_: &()) -> Cow<'_, str> {
        "routeagents".into()
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

/// Status of a [`RouteAgent`]: Submariner's three fields (always written,
/// its CRD requires them) plus routeagent's own (pruned by an API server
/// that has only Submariner's CRD; kept with `deploy/crds`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RouteAgentStatus {
    /// Agent version.
    #[serde(default, deserialize_with = "null_default")]
    pub version: String,
    /// Failures, `; `-separated; empty when all is well.
    #[serde(default, deserialize_with = "null_default")]
    pub status_failure: String,
    /// Health of each remote gateway, as seen from this node.
    #[serde(default, deserialize_with = "null_default")]
    pub remote_endpoints: Vec<RemoteEndpoint>,
    /// routeagent: the packet-filter backend in use (`nftables`, `iptables`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// routeagent: features running degraded, and why.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub degraded_features: Vec<DegradedFeature>,
    /// routeagent: what it took over on this node from Submariner's route
    /// agent, when it found anything of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub takeover: Option<TakeoverStatus>,
}

/// [`RouteAgentStatus::takeover`]: how many of Submariner's route agent's
/// objects were found, adopted, removed or left in conflict, how many of
/// others' were kept next to them, and the errors (the object lines are in
/// the agent's `/status` and log).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TakeoverStatus {
    /// The other agent's objects seen before anything was changed.
    #[serde(default)]
    pub found: u32,
    /// Its objects kept and taken over because they match the plan.
    #[serde(default)]
    pub adopted: u32,
    /// Its objects removed.
    #[serde(default)]
    pub removed: u32,
    /// Others' objects sharing a name or table with its, left as they are.
    #[serde(default)]
    pub kept: u32,
    /// Its objects left in place because takeover is disabled.
    #[serde(default)]
    pub conflicts: u32,
    /// What could not be done, each naming its object.
    #[serde(default, deserialize_with = "null_default")]
    pub errors: Vec<String>,
}

/// One degraded feature in [`RouteAgentStatus::degraded_features`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DegradedFeature {
    /// Stable feature name (the `capabilities` crate's `Feature`).
    #[serde(default)]
    pub feature: String,
    /// Why it is degraded and what the operator can do.
    #[serde(default)]
    pub reason: String,
}

/// One remote gateway's health in [`RouteAgentStatus::remote_endpoints`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoteEndpoint {
    /// `connected`, `connecting`, `error` or `none`.
    #[serde(default)]
    pub status: ConnectionStatus,
    /// Human-readable detail.
    #[serde(default, deserialize_with = "null_default")]
    pub status_message: String,
    /// The remote Endpoint's spec.
    #[serde(default, deserialize_with = "null_default")]
    pub spec: EndpointSpec,
    /// Round-trip times of the health-check pings.
    #[serde(
        rename = "latencyRTT",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub latency_rtt: Option<LatencyRttSpec>,
}

/// Submariner's connection states.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionStatus {
    /// Pings answered.
    Connected,
    /// No verdict yet.
    Connecting,
    /// Too many pings lost.
    Error,
    /// Not checked.
    #[default]
    #[serde(other)]
    None,
}

impl ConnectionStatus {
    /// The JSON spelling (`connected`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Connected => "connected",
            ConnectionStatus::Connecting => "connecting",
            ConnectionStatus::Error => "error",
            ConnectionStatus::None => "none",
        }
    }
}

/// Round-trip statistics, as Go duration strings (`388.079µs`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LatencyRttSpec {
    /// Last RTT.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub last: String,
    /// Minimum RTT.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub min: String,
    /// Mean RTT.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub average: String,
    /// Maximum RTT.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub max: String,
    /// Standard deviation.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub std_dev: String,
}

/// Formats `d` like Go's `time.Duration.String()` (`1.5ms`, `388.079µs`,
/// `2s`, `1m30s`), the form Submariner writes into `latencyRTT`.
pub fn go_duration(d: std::time::Duration) -> String {
    fn frac(whole: u128, rem: u128, digits: usize) -> String {
        let s = format!("{rem:0digits$}");
        let s = s.trim_end_matches('0');
        if s.is_empty() {
            whole.to_string()
        } else {
            format!("{whole}.{s}")
        }
    }
    let ns = d.as_nanos();
    match ns {
        0 => "0s".into(),
        n if n < 1_000 => format!("{n}ns"),
        n if n < 1_000_000 => format!("{}µs", frac(n / 1_000, n % 1_000, 3)),
        n if n < 1_000_000_000 => format!("{}ms", frac(n / 1_000_000, n % 1_000_000, 6)),
        n if n < 60_000_000_000 => format!("{}s", frac(n / 1_000_000_000, n % 1_000_000_000, 9)),
        n => {
            let secs = n / 1_000_000_000;
            let (h, m) = (secs / 3600, (secs % 3600) / 60);
            let s = frac(secs % 60, n % 1_000_000_000, 9);
            if h > 0 {
                format!("{h}h{m}m{s}s")
            } else {
                format!("{m}m{s}s")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn go_durations() {
        assert_eq!(go_duration(Duration::from_nanos(388_079)), "388.079µs");
        assert_eq!(go_duration(Duration::from_micros(1500)), "1.5ms");
        assert_eq!(go_duration(Duration::from_secs(2)), "2s");
        assert_eq!(go_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(go_duration(Duration::from_nanos(12)), "12ns");
        assert_eq!(go_duration(Duration::ZERO), "0s");
    }

    #[test]
    fn plural_ips_win_and_ipv4_is_preferred() {
        let spec = EndpointSpec {
            private_ip: "10.0.0.1".into(),
            private_ips: vec!["fd00::1".into(), "10.0.0.2".into()],
            ..EndpointSpec::default()
        };
        assert_eq!(spec.private_ip_v4(), Ok(Some("10.0.0.2".parse().unwrap())));
        let bad = EndpointSpec {
            public_ip: "nope".into(),
            ..EndpointSpec::default()
        };
        assert_eq!(bad.public_ip_v4(), Err("nope".to_string()));
        assert_eq!(bad.health_check_ip_v4(), Ok(None));
    }

    #[test]
    fn null_fields_parse() {
        let spec: EndpointSpec = serde_json::from_str(
            r#"{"cluster_id":"a","subnets":null,"backend_config":null,"nat_enabled":null}"#,
        )
        .unwrap();
        assert_eq!(spec.cluster_id, "a");
        assert!(spec.subnets.is_empty());
    }
}
