//! [`KubeConfig`]: Submariner's route-agent variables (`SUBMARINER_*`,
//! `NODE_NAME`) plus routeagent's own `ROUTEAGENT_KUBE_*` knobs, parsed with
//! errors that name the variable and the fix.

use ipnet::IpNet;
use std::time::Duration;

/// Grace period before a broken API connection makes the source unhealthy.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(60);

/// A bad or missing variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is unset or empty.
    #[error("{var} is not set; {fix}")]
    Missing {
        /// The variable.
        var: &'static str,
        /// What to set it to.
        fix: &'static str,
    },
    /// A variable has a value that does not parse or is out of range.
    #[error("{var}={value:?}: {problem}; {fix}")]
    Invalid {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// What is wrong.
        problem: String,
        /// What to write instead.
        fix: &'static str,
    },
}

/// Health-checker settings (`SUBMARINER_HEALTHCHECK*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheckConfig {
    /// `SUBMARINER_HEALTHCHECKENABLED` (default true).
    pub enabled: bool,
    /// `SUBMARINER_HEALTHCHECKINTERVAL`, in seconds (default 1). Unlike
    /// Submariner's route agent, not multiplied by 60.
    pub interval: Duration,
    /// `SUBMARINER_HEALTHCHECKMAXPACKETLOSSCOUNT` (default 5): consecutive
    /// lost pings before a remote endpoint is reported `error`.
    pub max_packet_loss: u32,
}

impl Default for HealthCheckConfig {
    fn default() -> Self {
        HealthCheckConfig {
            enabled: true,
            interval: Duration::from_secs(1),
            max_packet_loss: 5,
        }
    }
}

/// Everything the Kubernetes source needs besides a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeConfig {
    /// `SUBMARINER_NAMESPACE`: where Endpoints and RouteAgents live.
    pub namespace: String,
    /// `SUBMARINER_CLUSTERID`: this cluster's id.
    pub cluster_id: String,
    /// `SUBMARINER_CLUSTERCIDR`: pod CIDRs (comma list, at least one).
    pub cluster_cidrs: Vec<IpNet>,
    /// `SUBMARINER_SERVICECIDR`: service CIDRs (comma list, may be empty).
    pub service_cidrs: Vec<IpNet>,
    /// `SUBMARINER_GLOBALCIDR`: the cluster's Globalnet CIDR, when
    /// Globalnet runs (one CIDR).
    pub global_cidr: Option<IpNet>,
    /// Health checker settings.
    pub health_check: HealthCheckConfig,
    /// `SUBMARINER_UNINSTALL`: remove everything and exit.
    pub uninstall: bool,
    /// `NODE_NAME`: this node (the pod's `spec.nodeName`).
    pub node_name: String,
    /// The OS host name (`/proc/sys/kernel/hostname`), which Submariner's
    /// gateway writes into `Endpoint.spec.hostname`.
    pub os_hostname: String,
    /// `ROUTEAGENT_KUBE_GRACE_SECONDS` (default 60): how long the API may
    /// be unreachable before the source reports unhealthy.
    pub grace: Duration,
    /// `ROUTEAGENT_KUBE_RETRY_MIN_MS` / `_MAX_MS` (default 800 ms / 30 s):
    /// exponential backoff between watch retries.
    pub retry_min: Duration,
    /// See [`KubeConfig::retry_min`].
    pub retry_max: Duration,
    /// `ROUTEAGENT_KUBE_WATCH_TIMEOUT_SECONDS` (default 290): server-side
    /// watch timeout; the watch is resumed from the last resourceVersion.
    pub watch_timeout_seconds: u32,
}

impl KubeConfig {
    /// Reads the process environment; see [`KubeConfig::from_lookup`].
    pub fn from_env() -> Result<KubeConfig, ConfigError> {
        KubeConfig::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the variables through `get` (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<KubeConfig, ConfigError> {
        let val = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let required = |var: &'static str, fix: &'static str| {
            val(var).ok_or(ConfigError::Missing { var, fix })
        };

        let namespace = required(
            "SUBMARINER_NAMESPACE",
            "set it to the namespace holding Submariner's Endpoints (usually submariner-operator)",
        )?;
        let cluster_id = required(
            "SUBMARINER_CLUSTERID",
            "set it to this cluster's id, as given to `subctl join --clusterid`",
        )?;
        let cluster_cidrs = cidrs(
            "SUBMARINER_CLUSTERCIDR",
            &required(
                "SUBMARINER_CLUSTERCIDR",
                "set it to the pod CIDR(s), comma-separated, e.g. 10.244.0.0/16",
            )?,
        )?;
        let service_cidrs = match val("SUBMARINER_SERVICECIDR") {
            Some(v) => cidrs("SUBMARINER_SERVICECIDR", &v)?,
            None => Vec::new(),
        };
        let global_cidr = match val("SUBMARINER_GLOBALCIDR") {
            Some(v) => match cidrs("SUBMARINER_GLOBALCIDR", &v)?.as_slice() {
                [one] => Some(*one),
                _ => {
                    return Err(ConfigError::Invalid {
                        var: "SUBMARINER_GLOBALCIDR",
                        value: v.clone(),
                        problem: "lists more than one CIDR".into(),
                        fix: "write the one global CIDR of this cluster, e.g. 242.0.0.0/16",
                    })
                }
            },
            None => None,
        };
        let d = HealthCheckConfig::default();
        let health_check = HealthCheckConfig {
            enabled: opt(
                &val,
                "SUBMARINER_HEALTHCHECKENABLED",
                go_bool,
                "write true or false",
            )?
            .unwrap_or(d.enabled),
            interval: opt(
                &val,
                "SUBMARINER_HEALTHCHECKINTERVAL",
                positive,
                "write a whole number of seconds >= 1, e.g. 1",
            )?
            .map(Duration::from_secs)
            .unwrap_or(d.interval),
            max_packet_loss: opt(
                &val,
                "SUBMARINER_HEALTHCHECKMAXPACKETLOSSCOUNT",
                positive,
                "write a whole number >= 1, e.g. 5",
            )?
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
            .unwrap_or(d.max_packet_loss),
        };
        let uninstall =
            opt(&val, "SUBMARINER_UNINSTALL", go_bool, "write true or false")?.unwrap_or(false);
        let node_name = required(
            "NODE_NAME",
            "set it from the pod's spec.nodeName (env valueFrom.fieldRef)",
        )?;
        let os_hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .or_else(|| val("HOSTNAME"))
            .unwrap_or_else(|| node_name.clone());
        let secs = |var, fix| opt(&val, var, positive, fix);
        let ms = |var, fix| opt(&val, var, positive, fix);
        let retry_min = ms(
            "ROUTEAGENT_KUBE_RETRY_MIN_MS",
            "write milliseconds >= 1, e.g. 800",
        )?
        .map_or(Duration::from_millis(800), Duration::from_millis);
        let retry_max = ms(
            "ROUTEAGENT_KUBE_RETRY_MAX_MS",
            "write milliseconds >= 1, e.g. 30000",
        )?
        .map_or(Duration::from_secs(30), Duration::from_millis)
        .max(retry_min);
        Ok(KubeConfig {
            namespace,
            cluster_id,
            cluster_cidrs,
            service_cidrs,
            global_cidr,
            health_check,
            uninstall,
            node_name,
            os_hostname,
            grace: secs(
                "ROUTEAGENT_KUBE_GRACE_SECONDS",
                "write whole seconds >= 1, e.g. 60",
            )?
            .map_or(DEFAULT_GRACE, Duration::from_secs),
            retry_min,
            retry_max,
            watch_timeout_seconds: secs(
                "ROUTEAGENT_KUBE_WATCH_TIMEOUT_SECONDS",
                "write whole seconds >= 1, e.g. 290",
            )?
            .map_or(290, |n| u32::try_from(n).unwrap_or(u32::MAX)),
        })
    }
}

/// Parses an optional variable with `parse`, turning its message into a
/// [`ConfigError::Invalid`].
fn opt<T>(
    val: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    parse: fn(&str) -> Result<T, String>,
    fix: &'static str,
) -> Result<Option<T>, ConfigError> {
    match val(var) {
        None => Ok(None),
        Some(v) => parse(&v).map(Some).map_err(|problem| ConfigError::Invalid {
            var,
            value: v,
            problem,
            fix,
        }),
    }
}

/// Go's `strconv.ParseBool`, which Submariner uses for these variables.
fn go_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err("not a boolean".into()),
    }
}

fn positive(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err("not a whole number".into()),
    }
}

/// A comma list of CIDRs without host bits.
fn cidrs(var: &'static str, s: &str) -> Result<Vec<IpNet>, ConfigError> {
    let fix = "write comma-separated CIDRs without host bits, e.g. 10.244.0.0/16,10.245.0.0/16";
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let invalid = |problem: String| ConfigError::Invalid {
            var,
            value: s.to_string(),
            problem,
            fix,
        };
        let net: IpNet = part
            .parse()
            .map_err(|_| invalid(format!("{part:?} is not a CIDR")))?;
        if net.addr() != net.network() {
            return Err(invalid(format!(
                "{part:?} has host bits set (did you mean {}?)",
                net.trunc()
            )));
        }
        out.push(net);
    }
    if out.is_empty() {
        return Err(ConfigError::Invalid {
            var,
            value: s.into(),
            problem: "no CIDR in the list".into(),
            fix,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<KubeConfig, ConfigError> {
        let mut m: HashMap<String, String> = [
            ("SUBMARINER_NAMESPACE", "submariner-operator"),
            ("SUBMARINER_CLUSTERID", "cluster-a"),
            ("SUBMARINER_CLUSTERCIDR", "10.244.0.0/16"),
            ("SUBMARINER_SERVICECIDR", "10.96.0.0/12"),
            ("NODE_NAME", "node-1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in pairs {
            m.insert(k.to_string(), v.to_string());
        }
        KubeConfig::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn defaults_and_seconds_not_minutes() {
        let c = cfg(&[("SUBMARINER_HEALTHCHECKINTERVAL", "3")]).unwrap();
        assert_eq!(c.health_check.interval, Duration::from_secs(3));
        assert_eq!(c.health_check.max_packet_loss, 5);
        assert!(c.health_check.enabled && !c.uninstall);
        assert_eq!(c.grace, DEFAULT_GRACE);
        assert_eq!(
            c.cluster_cidrs,
            vec!["10.244.0.0/16".parse::<IpNet>().unwrap()]
        );
    }

    #[test]
    fn errors_name_the_variable_and_the_fix() {
        let e = cfg(&[("SUBMARINER_CLUSTERCIDR", "10.244.0.1/16")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("SUBMARINER_CLUSTERCIDR") && e.contains("10.244.0.0/16"),
            "{e}"
        );
        let e = cfg(&[("SUBMARINER_HEALTHCHECKENABLED", "yes")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("SUBMARINER_HEALTHCHECKENABLED") && e.contains("true or false"),
            "{e}"
        );
        let e = cfg(&[("SUBMARINER_HEALTHCHECKINTERVAL", "0")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("at least 1"), "{e}");
        let e = cfg(&[("NODE_NAME", " ")]).unwrap_err();
        assert!(matches!(
            e,
            ConfigError::Missing {
                var: "NODE_NAME",
                ..
            }
        ));
        assert!(cfg(&[("SUBMARINER_UNINSTALL", "True")]).unwrap().uninstall);
    }
}
