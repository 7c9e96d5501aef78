//! [`NbConfig`]: where the northbound database is, how to reach it, and
//! where both came from (for `doctor` and the log).
//!
//! The endpoint: `OVN_NB_DB` (the variable `ovn-nbctl` reads too); unset,
//! in Kubernetes mode Submariner's discovery through the API
//! ([`crate::discovery`], read by the Kubernetes source); else the first
//! socket of [`DEFAULT_SOCKETS`] that exists (the paths OVN-Kubernetes and
//! OpenShift mount).
//!
//! For `ssl:`, `OVN_CERT`, `OVN_PK` and `OVN_CA`, each a [`PemRef`]: a
//! path (optionally `file://`), or in Kubernetes mode
//! `secret://NS/NAME/KEY` / `configmap://NS/NAME/KEY`, read through the
//! API; unset there, upstream's defaults ([`KUBE_DEFAULTS`]). The material
//! is read again before every connection attempt
//! ([`ovsdb::TlsSource`]), so rotated certificates are used from the next
//! reconnect on. In file mode [`NbConfig::from_vars`] refuses
//! `secret://`/`configmap://` with the fix.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ovsdb::{Endpoint, TlsFiles, TlsSource};

use crate::error::{Error, Result};

/// The variable naming the database (`unix:...`, `tcp:...`, `ssl:...`).
pub const NB_DB_VAR: &str = "OVN_NB_DB";
/// The TLS variables: certificate, private key, CA bundle.
pub const TLS_VARS: [&str; 3] = ["OVN_CERT", "OVN_PK", "OVN_CA"];
/// Sockets tried in order when `OVN_NB_DB` is unset: OpenShift with
/// interconnect, upstream OVN-Kubernetes, Debian's ovn-central.
pub const DEFAULT_SOCKETS: &[&str] = &[
    "/var/run/ovn-ic/ovnnb_db.sock",
    "/var/run/openvswitch/ovnnb_db.sock",
    "/var/run/ovn/ovnnb_db.sock",
];
/// Upstream's values of [`TLS_VARS`] when unset in Kubernetes mode
/// (OpenShift's certificate Secret and CA ConfigMap).
pub const KUBE_DEFAULTS: [&str; 3] = [
    "secret://openshift-ovn-kubernetes/ovn-cert/tls.crt",
    "secret://openshift-ovn-kubernetes/ovn-cert/tls.key",
    "configmap://openshift-ovn-kubernetes/ovn-ca/ca-bundle.crt",
];

/// Where one PEM document is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PemRef {
    /// A file (`/path`, `file:///path`).
    File(PathBuf),
    /// `secret://NS/NAME/KEY`: key KEY of Secret NAME in namespace NS.
    Secret {
        /// Namespace.
        namespace: String,
        /// Secret name.
        name: String,
        /// Data key.
        key: String,
    },
    /// `configmap://NS/NAME/KEY`: key KEY of ConfigMap NAME in NS.
    ConfigMap {
        /// Namespace.
        namespace: String,
        /// ConfigMap name.
        name: String,
        /// Data key.
        key: String,
    },
}

impl PemRef {
    /// Parses a value of `OVN_CERT`/`OVN_PK`/`OVN_CA`; the error says why.
    pub fn parse(text: &str) -> std::result::Result<PemRef, String> {
        let object = |rest: &str, scheme: &str| {
            let parts: Vec<&str> = rest.split('/').collect();
            match parts.as_slice() {
                [ns, name, key] if !ns.is_empty() && !name.is_empty() && !key.is_empty() => {
                    Ok((ns.to_string(), name.to_string(), key.to_string()))
                }
                _ => Err(format!("{text:?}: expected {scheme}://NAMESPACE/NAME/KEY")),
            }
        };
        if let Some(rest) = text.strip_prefix("secret://") {
            let (namespace, name, key) = object(rest, "secret")?;
            return Ok(PemRef::Secret {
                namespace,
                name,
                key,
            });
        }
        if let Some(rest) = text.strip_prefix("configmap://") {
            let (namespace, name, key) = object(rest, "configmap")?;
            return Ok(PemRef::ConfigMap {
                namespace,
                name,
                key,
            });
        }
        let path = text.strip_prefix("file://").unwrap_or(text);
        if path.is_empty() || text.contains("://") && !text.starts_with("file://") {
            return Err(format!(
                "{text:?}: expected a path, file:///PATH, secret://NS/NAME/KEY or configmap://NS/NAME/KEY"
            ));
        }
        Ok(PemRef::File(PathBuf::from(path)))
    }
}

impl fmt::Display for PemRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PemRef::File(p) => write!(f, "{}", p.display()),
            PemRef::Secret {
                namespace,
                name,
                key,
            } => write!(f, "secret://{namespace}/{name}/{key}"),
            PemRef::ConfigMap {
                namespace,
                name,
                key,
            } => write!(f, "configmap://{namespace}/{name}/{key}"),
        }
    }
}

/// The certificate, key and CA references, and whether they are the
/// defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsRefs {
    /// `OVN_CERT`.
    pub cert: PemRef,
    /// `OVN_PK`.
    pub key: PemRef,
    /// `OVN_CA`.
    pub ca: PemRef,
    /// Which of the three were unset and took [`KUBE_DEFAULTS`].
    pub defaulted: Vec<&'static str>,
}

impl TlsRefs {
    /// Reads [`TLS_VARS`] through `var`; an unset one takes its
    /// [`KUBE_DEFAULTS`] entry when `kube`, else it is an error.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>, kube: bool) -> Result<TlsRefs> {
        let mut defaulted = Vec::new();
        let mut refs = Vec::new();
        for (name, default) in TLS_VARS.into_iter().zip(KUBE_DEFAULTS) {
            let text = match var(name).filter(|v| !v.trim().is_empty()) {
                Some(v) => v.trim().to_string(),
                None if kube => {
                    defaulted.push(name);
                    default.to_string()
                }
                None => return Err(Error::Config {
                    var: name,
                    reason:
                        "the endpoint is ssl:; set OVN_CERT, OVN_PK and OVN_CA to PEM file paths"
                            .into(),
                }),
            };
            refs.push(PemRef::parse(&text).map_err(|reason| Error::Config { var: name, reason })?);
        }
        let [cert, key, ca] = <[PemRef; 3]>::try_from(refs).expect("three variables");
        Ok(TlsRefs {
            cert,
            key,
            ca,
            defaulted,
        })
    }

    /// The three as files, or the first that is not a file.
    pub fn files(&self) -> std::result::Result<TlsFiles, (&'static str, &PemRef)> {
        fn path<'a>(
            var: &'static str,
            r: &'a PemRef,
        ) -> Result<String, (&'static str, &'a PemRef)> {
            match r {
                PemRef::File(p) => Ok(p.display().to_string()),
                other => Err((var, other)),
            }
        }
        Ok(TlsFiles::new(
            &path("OVN_CERT", &self.cert)?,
            &path("OVN_PK", &self.key)?,
            &path("OVN_CA", &self.ca)?,
        ))
    }
}

/// The database endpoint, the TLS material's source, and their origins.
#[derive(Debug, Clone)]
pub struct NbConfig {
    /// Where the database listens.
    pub endpoint: Endpoint,
    /// Where the endpoint came from (`OVN_NB_DB`, a discovery rule, a
    /// socket).
    pub origin: String,
    /// The TLS material, for `ssl:` endpoints; read per connection attempt.
    pub tls: Option<Arc<dyn TlsSource>>,
}

impl NbConfig {
    /// An endpoint without TLS, with its origin.
    pub fn plain(endpoint: Endpoint, origin: &str) -> NbConfig {
        NbConfig {
            endpoint,
            origin: origin.to_string(),
            tls: None,
        }
    }

    /// File mode: reads the variables through `var`
    /// (`std::env::var(..).ok()` in the binary); `exists` says whether a
    /// socket path exists. TLS values must be files.
    pub fn from_vars(
        var: impl Fn(&str) -> Option<String>,
        exists: impl Fn(&Path) -> bool,
    ) -> Result<NbConfig> {
        let (endpoint, origin) = match endpoint_from_vars(&var)? {
            Some(e) => (e, NB_DB_VAR.to_string()),
            None => default_socket(exists),
        };
        let tls = if endpoint.is_tls() {
            let refs = TlsRefs::from_vars(&var, false)?;
            let files = refs.files().map_err(|(var, r)| Error::Config {
                var,
                reason: format!("{r}: secret:// and configmap:// are read only with --source kubernetes; mount the object and give the file path"),
            })?;
            Some(Arc::new(files) as Arc<dyn TlsSource>)
        } else {
            None
        };
        Ok(NbConfig {
            endpoint,
            origin,
            tls,
        })
    }

    /// [`NbConfig::from_vars`] over the process environment.
    pub fn from_env() -> Result<NbConfig> {
        NbConfig::from_vars(|k| std::env::var(k).ok(), Path::exists)
    }

    /// Where the TLS material comes from (`doctor`), if any.
    pub fn tls_origin(&self) -> Option<String> {
        self.tls.as_ref().map(|t| t.describe())
    }
}

/// `OVN_NB_DB`, parsed; `None` when unset or empty.
pub fn endpoint_from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Option<Endpoint>> {
    var(NB_DB_VAR)
        .filter(|v| !v.trim().is_empty())
        .map(|text| {
            Endpoint::parse(text.trim()).map_err(|e| Error::Config {
                var: NB_DB_VAR,
                reason: e.to_string(),
            })
        })
        .transpose()
}

/// The first of [`DEFAULT_SOCKETS`] that exists (else upstream's
/// `/var/run/openvswitch/ovnnb_db.sock`), with its origin.
pub fn default_socket(exists: impl Fn(&Path) -> bool) -> (Endpoint, String) {
    match DEFAULT_SOCKETS.iter().map(Path::new).find(|p| exists(p)) {
        Some(p) => (
            Endpoint::Unix(p.to_path_buf()),
            "OVN_NB_DB unset: the first usual socket that exists".into(),
        ),
        None => (
            Endpoint::Unix(PathBuf::from(DEFAULT_SOCKETS[1])),
            "OVN_NB_DB unset and no usual socket exists: upstream's default".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| vars.get(k).cloned()
    }

    fn cfg(v: &[(&str, &str)], existing: &[&str]) -> Result<NbConfig> {
        NbConfig::from_vars(vars(v), |p| existing.iter().any(|e| Path::new(e) == p))
    }

    #[test]
    fn explicit_endpoint_and_socket_fallbacks() {
        let c = cfg(&[("OVN_NB_DB", "tcp:10.0.0.1:6641")], &[]).unwrap();
        assert_eq!(c.endpoint.to_string(), "tcp:10.0.0.1:6641");
        assert_eq!(c.origin, "OVN_NB_DB");
        assert!(c.tls.is_none());
        let c = cfg(&[], &["/var/run/ovn-ic/ovnnb_db.sock"]).unwrap();
        assert_eq!(c.endpoint.to_string(), "unix:/var/run/ovn-ic/ovnnb_db.sock");
        let c = cfg(&[], &[]).unwrap();
        assert_eq!(
            c.endpoint.to_string(),
            "unix:/var/run/openvswitch/ovnnb_db.sock"
        );
        assert!(c.origin.contains("no usual socket"), "{}", c.origin);
    }

    #[test]
    fn ssl_needs_the_three_files_in_file_mode() {
        let e = cfg(
            &[("OVN_NB_DB", "ssl:ovnkube-db:9641"), ("OVN_CERT", "/c")],
            &[],
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("OVN_PK: "), "{e}");
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
        assert_eq!(c.tls_origin().unwrap(), "cert /c, key /k, CA /a");
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
        assert!(e.to_string().starts_with("OVN_CERT: secret://ns/ovn-cert/tls.crt: secret:// and configmap:// are read only with --source kubernetes"), "{e}");
        let e = cfg(&[("OVN_NB_DB", "ovnkube-db:9641")], &[]).unwrap_err();
        assert!(
            e.to_string().starts_with("OVN_NB_DB: bad OVSDB endpoint"),
            "{e}"
        );
    }

    #[test]
    fn kube_mode_defaults_and_reference_forms() {
        let r = TlsRefs::from_vars(vars(&[("OVN_PK", "/k.pem")]), true).unwrap();
        assert_eq!(r.cert.to_string(), KUBE_DEFAULTS[0]);
        assert_eq!(r.key, PemRef::File("/k.pem".into()));
        assert_eq!(r.ca.to_string(), KUBE_DEFAULTS[2]);
        assert_eq!(r.defaulted, ["OVN_CERT", "OVN_CA"]);
        assert_eq!(r.files().unwrap_err().0, "OVN_CERT");
        assert_eq!(
            PemRef::parse("configmap://ns/ca/ca.crt").unwrap(),
            PemRef::ConfigMap {
                namespace: "ns".into(),
                name: "ca".into(),
                key: "ca.crt".into()
            }
        );
        for bad in ["secret://ns/name", "configmap://ns//k", "https://x/y", ""] {
            assert!(PemRef::parse(bad).is_err(), "{bad}");
        }
        let e = TlsRefs::from_vars(vars(&[("OVN_CA", "secret://a/b")]), true).unwrap_err();
        assert_eq!(
            e.to_string(),
            "OVN_CA: \"secret://a/b\": expected secret://NAMESPACE/NAME/KEY"
        );
    }
}
