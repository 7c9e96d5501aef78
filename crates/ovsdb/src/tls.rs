//! TLS for `ssl:` endpoints. [`TlsPem`]: the client certificate, key and
//! CA as PEM bytes, each with where it came from, turned into a rustls
//! client configuration — the one way a configuration is built. A
//! [`TlsSource`] hands out a fresh [`TlsPem`] for every connection attempt,
//! so certificates that rotate (OpenShift rotates OVN's) are re-read on
//! reconnect: [`TlsFiles`] reads PEM files (`OVN_CERT`, `OVN_PK`,
//! `OVN_CA`); the Kubernetes source reads Secrets and ConfigMaps.
//! ovsdb-server asks every `ssl:` client for a certificate, so all three
//! are needed.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

use crate::error::{Error, Result};

/// The server name the client verifies unless told otherwise: OVN's
/// database certificates are issued for `ovn`, whatever the address.
pub const DEFAULT_SERVER_NAME: &str = "ovn";

/// A boxed future, for [`TlsSource::load`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where the TLS material comes from; asked again before every connection
/// attempt.
pub trait TlsSource: std::fmt::Debug + Send + Sync {
    /// Reads the certificate, key and CA now.
    fn load(&self) -> BoxFuture<'_, Result<TlsPem>>;
    /// Where the three come from, for logs and `doctor`
    /// (`cert /c.pem, key /k.pem, CA /ca.pem`).
    fn describe(&self) -> String;
}

/// One PEM document and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pem {
    /// The path, or `secret://NS/NAME/KEY`, `configmap://NS/NAME/KEY`.
    pub origin: String,
    /// The PEM text.
    pub bytes: Vec<u8>,
}

/// A client certificate, its key and the CA, as PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsPem {
    /// Client certificate chain (`OVN_CERT`).
    pub cert: Pem,
    /// Client private key (`OVN_PK`).
    pub key: Pem,
    /// CA bundle that signed the server's certificate (`OVN_CA`).
    pub ca: Pem,
    /// The name the server's certificate must carry ([`DEFAULT_SERVER_NAME`]).
    pub server_name: String,
}

impl TlsPem {
    /// The three documents with the default server name.
    pub fn new(cert: Pem, key: Pem, ca: Pem) -> TlsPem {
        TlsPem {
            cert,
            key,
            ca,
            server_name: DEFAULT_SERVER_NAME.to_string(),
        }
    }

    /// Checks the documents and builds the rustls configuration (TLS 1.2
    /// or 1.3, client authentication with the certificate).
    pub fn client_config(&self) -> Result<Arc<ClientConfig>> {
        let chain = certs(&self.cert, "certificate (OVN_CERT)")?;
        let key = PrivateKeyDer::from_pem_slice(&self.key.bytes).map_err(|e| Error::TlsFile {
            what: "private key (OVN_PK)",
            origin: self.key.origin.clone(),
            reason: format!("holds no usable PEM private key: {e}"),
        })?;
        let mut roots = RootCertStore::empty();
        for ca in certs(&self.ca, "CA (OVN_CA)")? {
            roots.add(ca).map_err(|e| Error::TlsFile {
                what: "CA (OVN_CA)",
                origin: self.ca.origin.clone(),
                reason: format!("not a usable CA certificate: {e}"),
            })?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .and_then(|b| {
                b.with_root_certificates(roots)
                    .with_client_auth_cert(chain, key)
            })
            .map_err(|e| Error::TlsFile {
                what: "private key (OVN_PK)",
                origin: self.key.origin.clone(),
                reason: format!("does not fit the certificate {}: {e}", self.cert.origin),
            })?;
        Ok(Arc::new(config))
    }

    /// The server name to verify, checked.
    pub fn server_name(&self) -> Result<ServerName<'static>> {
        ServerName::try_from(self.server_name.clone()).map_err(|e| Error::TlsFile {
            what: "server name",
            origin: self.server_name.clone(),
            reason: e.to_string(),
        })
    }
}

/// The certificates in `pem`, at least one.
fn certs(pem: &Pem, what: &'static str) -> Result<Vec<CertificateDer<'static>>> {
    let bad = |reason: String| Error::TlsFile {
        what,
        origin: pem.origin.clone(),
        reason,
    };
    let certs = CertificateDer::pem_slice_iter(&pem.bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("not PEM: {e}")))?;
    if certs.is_empty() {
        return Err(bad("holds no CERTIFICATE block".into()));
    }
    Ok(certs)
}

/// PEM files for TLS to an OVSDB server, read at every connection attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// Client certificate chain (`OVN_CERT`).
    pub cert: PathBuf,
    /// Client private key (`OVN_PK`).
    pub key: PathBuf,
    /// CA bundle that signed the server's certificate (`OVN_CA`).
    pub ca: PathBuf,
}

impl TlsFiles {
    /// The three files. A `file://` prefix is accepted (Submariner's
    /// `OVN_*` variables may carry one).
    pub fn new(cert: &str, key: &str, ca: &str) -> TlsFiles {
        let path = |s: &str| PathBuf::from(s.strip_prefix("file://").unwrap_or(s));
        TlsFiles {
            cert: path(cert),
            key: path(key),
            ca: path(ca),
        }
    }

    /// Reads the three files (`cat`).
    pub fn read(&self) -> Result<TlsPem> {
        Ok(TlsPem::new(
            read(&self.cert, "certificate (OVN_CERT)")?,
            read(&self.key, "private key (OVN_PK)")?,
            read(&self.ca, "CA (OVN_CA)")?,
        ))
    }
}

impl TlsSource for TlsFiles {
    fn load(&self) -> BoxFuture<'_, Result<TlsPem>> {
        Box::pin(async move { self.read() })
    }

    fn describe(&self) -> String {
        format!(
            "cert {}, key {}, CA {}",
            self.cert.display(),
            self.key.display(),
            self.ca.display()
        )
    }
}

/// Reads one PEM file.
pub fn read(path: &Path, what: &'static str) -> Result<Pem> {
    let origin = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => Ok(Pem { origin, bytes }),
        Err(e) => Err(Error::TlsFile {
            what,
            origin,
            reason: format!("cannot read it ({e}); mount the file or fix the variable"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_prefix_is_stripped() {
        let t = TlsFiles::new("file:///etc/ovn/cert.pem", "/etc/ovn/key.pem", "ca.pem");
        assert_eq!(t.cert, PathBuf::from("/etc/ovn/cert.pem"));
        assert_eq!(t.key, PathBuf::from("/etc/ovn/key.pem"));
        assert_eq!(
            t.describe(),
            "cert /etc/ovn/cert.pem, key /etc/ovn/key.pem, CA ca.pem"
        );
    }

    #[test]
    fn missing_and_bad_documents_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate").unwrap();
        let missing = dir.path().join("missing.pem");
        let t = TlsFiles::new(
            missing.to_str().unwrap(),
            junk.to_str().unwrap(),
            junk.to_str().unwrap(),
        );
        let e = t.read().unwrap_err().to_string();
        assert!(e.starts_with("TLS certificate (OVN_CERT) "), "{e}");
        assert!(e.contains("cannot read it"), "{e}");
        let pem = |origin: &str, text: &str| Pem {
            origin: origin.into(),
            bytes: text.as_bytes().to_vec(),
        };
        let t = TlsPem::new(
            pem("secret://ns/ovn-cert/tls.crt", "junk"),
            pem("secret://ns/ovn-cert/tls.key", "junk"),
            pem("configmap://ns/ovn-ca/ca-bundle.crt", "junk"),
        );
        assert_eq!(t.server_name, "ovn");
        let e = t.client_config().unwrap_err().to_string();
        assert_eq!(
            e,
            "TLS certificate (OVN_CERT) secret://ns/ovn-cert/tls.crt: holds no CERTIFICATE block"
        );
    }
}
