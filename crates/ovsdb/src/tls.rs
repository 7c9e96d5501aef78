//! [`TlsFiles`]: the client certificate, key and CA for `ssl:` endpoints,
//! as OVN-Kubernetes hands them to Submariner (`OVN_CERT`, `OVN_PK`,
//! `OVN_CA`), turned into a rustls client configuration. ovsdb-server
//! asks every `ssl:` client for a certificate, so all three are needed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

use crate::error::{Error, Result};

/// The server name the client verifies unless told otherwise: OVN's
/// database certificates are issued for `ovn`, whatever the address.
pub const DEFAULT_SERVER_NAME: &str = "ovn";

/// PEM files for TLS to an OVSDB server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// Client certificate chain (`OVN_CERT`).
    pub cert: PathBuf,
    /// Client private key (`OVN_PK`).
    pub key: PathBuf,
    /// CA bundle that signed the server's certificate (`OVN_CA`).
    pub ca: PathBuf,
    /// The name the server's certificate must carry ([`DEFAULT_SERVER_NAME`]).
    pub server_name: String,
}

impl TlsFiles {
    /// The three files with the default server name. A `file://` prefix is
    /// accepted (Submariner's `OVN_*` variables may carry one).
    pub fn new(cert: &str, key: &str, ca: &str) -> TlsFiles {
        let path = |s: &str| PathBuf::from(s.strip_prefix("file://").unwrap_or(s));
        TlsFiles {
            cert: path(cert),
            key: path(key),
            ca: path(ca),
            server_name: DEFAULT_SERVER_NAME.to_string(),
        }
    }

    /// Reads and checks the files and builds the rustls configuration
    /// (TLS 1.2 or 1.3, client authentication with the certificate).
    pub fn client_config(&self) -> Result<Arc<ClientConfig>> {
        let certs = read_certs(&self.cert, "certificate (OVN_CERT)")?;
        let key = read_key(&self.key)?;
        let mut roots = RootCertStore::empty();
        for ca in read_certs(&self.ca, "CA (OVN_CA)")? {
            roots.add(ca).map_err(|e| Error::TlsFile {
                what: "CA (OVN_CA)",
                path: self.ca.display().to_string(),
                reason: format!("not a usable CA certificate: {e}"),
            })?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .and_then(|b| {
                b.with_root_certificates(roots)
                    .with_client_auth_cert(certs, key)
            })
            .map_err(|e| Error::TlsFile {
                what: "private key (OVN_PK)",
                path: self.key.display().to_string(),
                reason: format!("does not fit the certificate {}: {e}", self.cert.display()),
            })?;
        Ok(Arc::new(config))
    }

    /// The server name to verify, checked.
    pub fn server_name(&self) -> Result<ServerName<'static>> {
        ServerName::try_from(self.server_name.clone()).map_err(|e| Error::TlsFile {
            what: "server name",
            path: self.server_name.clone(),
            reason: e.to_string(),
        })
    }
}

fn read(path: &Path, what: &'static str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::TlsFile {
        what,
        path: path.display().to_string(),
        reason: format!("cannot read it ({e}); mount the file or fix the variable"),
    })
}

fn read_certs(path: &Path, what: &'static str) -> Result<Vec<CertificateDer<'static>>> {
    let bad = |reason: String| Error::TlsFile {
        what,
        path: path.display().to_string(),
        reason,
    };
    let pem = read(path, what)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("not PEM: {e}")))?;
    if certs.is_empty() {
        return Err(bad("holds no CERTIFICATE block".into()));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>> {
    const WHAT: &str = "private key (OVN_PK)";
    let pem = read(path, WHAT)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| Error::TlsFile {
        what: WHAT,
        path: path.display().to_string(),
        reason: format!("holds no usable PEM private key: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_prefix_is_stripped() {
        let t = TlsFiles::new("file:///etc/ovn/cert.pem", "/etc/ovn/key.pem", "ca.pem");
        assert_eq!(t.cert, PathBuf::from("/etc/ovn/cert.pem"));
        assert_eq!(t.key, PathBuf::from("/etc/ovn/key.pem"));
        assert_eq!(t.server_name, "ovn");
    }

    #[test]
    fn missing_and_bad_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate").unwrap();
        let missing = dir.path().join("missing.pem");
        let t = TlsFiles::new(
            missing.to_str().unwrap(),
            junk.to_str().unwrap(),
            junk.to_str().unwrap(),
        );
        let e = t.client_config().unwrap_err().to_string();
        assert!(e.starts_with("TLS certificate (OVN_CERT) "), "{e}");
        assert!(e.contains("cannot read it"), "{e}");
        let t = TlsFiles::new(
            junk.to_str().unwrap(),
            junk.to_str().unwrap(),
            junk.to_str().unwrap(),
        );
        let e = t.client_config().unwrap_err().to_string();
        assert!(e.contains("holds no CERTIFICATE block"), "{e}");
    }
}
