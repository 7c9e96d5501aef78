//! [`NbConfig`]: where the northbound database is and how to reach it,
//! from the environment: `OVN_NB_DB` (the variable `ovn-nbctl` reads too),
//! else the first socket of [`DEFAULT_SOCKETS`] that exists (the paths
//! OVN-Kubernetes and OpenShift mount), and for `ssl:` the PEM files in
//! `OVN_CERT`, `OVN_PK` and `OVN_CA` (paths, optionally `file://`).
//!
//! Not done here: Submariner's discovery through the Kubernetes API
//! (`ovnkube-db` Service, zone Endpoints) and `secret://`/`configmap://`
//! values; set `OVN_NB_DB` and mount the files instead.

use std::path::Path;

use ovsdb::{Endpoint, TlsFiles};

use crate::error::{Error, Result};

/// The variable naming the database (`unix:...`, `tcp:...`, `ssl:...`).
pub const NB_DB_VAR: &str = "OVN_NB_DB";
/// Sockets tried in order when `OVN_NB_DB` is unset: OpenShift with
/// interconnect, upstream OVN-Kubernetes, Debian's ovn-central.
pub const DEFAULT_SOCKETS: &[&str] = &[
    "/var/run/ovn-ic/ovnnb_db.sock",
    "/var/run/openvswitch/ovnnb_db.sock",
    "/var/run/ovn/ovnnb_db.sock",
];

/// The database endpoint and TLS files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NbConfig {
    /// Where the database listens.
    pub endpoint: Endpoint,
    /// TLS files, for `ssl:` endpoints.
    pub tls: Option<TlsFiles>,
}

impl NbConfig {
    /// Reads the variables through `var` (`std::env::var(..).ok()` in the
    /// binary); `exists` says whether a socket path exists.
    pub fn from_vars(
        var: impl Fn(&str) -> Option<String>,
        exists: impl Fn(&Path) -> bool,
    ) -> Result<NbConfig> {
        let endpoint = match var(NB_DB_VAR).filter(|v| !v.trim().is_empty()) {
            Some(text) => Endpoint::parse(text.trim()).map_err(|e| Error::Config {
                var: NB_DB_VAR,
                reason: e.to_string(),
            })?,
            None => {
                let path = DEFAULT_SOCKETS
                    .iter()
                    .map(Path::new)
                    .find(|p| exists(p))
                    .unwrap_or(Path::new(DEFAULT_SOCKETS[1]));
                Endpoint::Unix(path.to_path_buf())
            }
        };
        let tls = if endpoint.is_tls() {
            let get = |name: &'static str| {
                let v = var(name).filter(|v| !v.trim().is_empty()).ok_or(Error::Config {
                    var: name,
                    reason: format!("{endpoint} is an ssl: endpoint; set OVN_CERT, OVN_PK and OVN_CA to PEM file paths"),
                })?;
                if v.starts_with("secret://") || v.starts_with("configmap://") {
                    return Err(Error::Config {
                        var: name,
                        reason: format!("{v:?}: secret:// and configmap:// are not read by routeagent; mount the object and give the file path"),
                    });
                }
                Ok(v)
            };
            Some(TlsFiles::new(
                &get("OVN_CERT")?,
                &get("OVN_PK")?,
                &get("OVN_CA")?,
            ))
        } else {
            None
        };
        Ok(NbConfig { endpoint, tls })
    }

    /// [`NbConfig::from_vars`] over the process environment.
    pub fn from_env() -> Result<NbConfig> {
        NbConfig::from_vars(|k| std::env::var(k).ok(), Path::exists)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(vars: &[(&str, &str)], existing: &[&str]) -> Result<NbConfig> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        NbConfig::from_vars(
            |k| vars.get(k).cloned(),
            |p| existing.iter().any(|e| Path::new(e) == p),
        )
    }

    #[test]
    fn explicit_endpoint_and_socket_fallbacks() {
        let c = cfg(&[("OVN_NB_DB", "tcp:10.0.0.1:6641")], &[]).unwrap();
        assert_eq!(c.endpoint.to_string(), "tcp:10.0.0.1:6641");
        assert_eq!(c.tls, None);
        let c = cfg(&[], &["/var/run/ovn-ic/ovnnb_db.sock"]).unwrap();
        assert_eq!(c.endpoint.to_string(), "unix:/var/run/ovn-ic/ovnnb_db.sock");
        let c = cfg(&[], &[]).unwrap();
        assert_eq!(
            c.endpoint.to_string(),
            "unix:/var/run/openvswitch/ovnnb_db.sock"
        );
    }

    #[test]
    fn ssl_needs_the_three_files() {
        let e = cfg(
            &[("OVN_NB_DB", "ssl:ovnkube-db:9641"), ("OVN_CERT", "/c")],
            &[],
        )
        .unwrap_err();
        assert!(e.to_string().contains("OVN_PK"), "{e}");
        let c = cfg(
            &[
                ("OVN_NB_DB", "ssl:ovnkube-db:9641"),
                ("OVN_CERT", "/c"),
                ("OVN_PK", "/k"),
                ("OVN_CA", "file:///a"),
            ],
            &[],
        )
        .unwrap();
        assert_eq!(c.tls.unwrap().ca, std::path::PathBuf::from("/a"));
        let e = cfg(
            &[
                ("OVN_NB_DB", "ssl:x:9641"),
                ("OVN_CERT", "secret://ns/ovn-cert/tls.crt"),
                ("OVN_PK", "/k"),
                ("OVN_CA", "/a"),
            ],
            &[],
        )
        .unwrap_err();
        assert!(e.to_string().contains("mount the object"), "{e}");
        let e = cfg(&[("OVN_NB_DB", "ovnkube-db:9641")], &[]).unwrap_err();
        assert!(
            e.to_string().starts_with("OVN_NB_DB: bad OVSDB endpoint"),
            "{e}"
        );
    }
}
