//! [`Endpoint`]: where an OVSDB server listens, in the syntax OVS and OVN
//! use (`unix:/var/run/ovn/ovnnb_db.sock`, `tcp:10.0.0.1:6641`,
//! `ssl:ovnkube-db.ovn-kubernetes:6641`, `ssl:[fd00::1]:6641`).

use std::fmt;
use std::path::PathBuf;

use crate::error::{Error, Result};

/// An OVSDB server address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `unix:PATH`: a unix stream socket.
    Unix(PathBuf),
    /// `tcp:HOST:PORT`: plain TCP.
    Tcp {
        /// Host name or address (IPv6 without brackets).
        host: String,
        /// Port.
        port: u16,
    },
    /// `ssl:HOST:PORT`: TLS over TCP (see [`crate::TlsFiles`]).
    Ssl {
        /// Host name or address (IPv6 without brackets).
        host: String,
        /// Port.
        port: u16,
    },
}

impl Endpoint {
    /// Parses `unix:PATH`, `tcp:HOST:PORT` or `ssl:HOST:PORT`.
    pub fn parse(text: &str) -> Result<Endpoint> {
        let bad = |reason: &str| Error::Endpoint {
            text: text.to_string(),
            reason: reason.to_string(),
        };
        let (scheme, rest) = text.split_once(':').ok_or_else(|| bad("no scheme"))?;
        match scheme {
            "unix" if rest.is_empty() => Err(bad("empty socket path")),
            "unix" => Ok(Endpoint::Unix(PathBuf::from(rest))),
            "tcp" | "ssl" => {
                let (host, port) = split_host_port(rest).ok_or_else(|| bad("no HOST:PORT"))?;
                let port: u16 = port
                    .parse()
                    .map_err(|_| bad(&format!("port {port:?} is not a number 1-65535")))?;
                if port == 0 {
                    return Err(bad("port 0"));
                }
                if host.is_empty() {
                    return Err(bad("empty host"));
                }
                let host = host.to_string();
                Ok(if scheme == "tcp" {
                    Endpoint::Tcp { host, port }
                } else {
                    Endpoint::Ssl { host, port }
                })
            }
            _ => Err(bad(&format!("unknown scheme {scheme:?}"))),
        }
    }

    /// Whether this endpoint needs TLS files.
    pub fn is_tls(&self) -> bool {
        matches!(self, Endpoint::Ssl { .. })
    }
}

/// `host:port` or `[v6]:port`; the host comes back without brackets.
fn split_host_port(rest: &str) -> Option<(&str, &str)> {
    if let Some(v6) = rest.strip_prefix('[') {
        let (host, tail) = v6.split_once(']')?;
        return Some((host, tail.strip_prefix(':')?));
    }
    rest.rsplit_once(':')
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hp = |f: &mut fmt::Formatter<'_>, scheme, host: &str, port| {
            if host.contains(':') {
                write!(f, "{scheme}:[{host}]:{port}")
            } else {
                write!(f, "{scheme}:{host}:{port}")
            }
        };
        match self {
            Endpoint::Unix(p) => write!(f, "unix:{}", p.display()),
            Endpoint::Tcp { host, port } => hp(f, "tcp", host, port),
            Endpoint::Ssl { host, port } => hp(f, "ssl", host, port),
        }
    }
}

impl std::str::FromStr for Endpoint {
    type Err = Error;
    fn from_str(s: &str) -> Result<Endpoint> {
        Endpoint::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_every_form() {
        for text in [
            "unix:/var/run/ovn/ovnnb_db.sock",
            "tcp:10.0.0.1:6641",
            "ssl:ovnkube-db.ovn-kubernetes:6641",
            "ssl:[fd00::1]:9641",
        ] {
            assert_eq!(Endpoint::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(
            Endpoint::parse("ssl:[fd00::1]:9641").unwrap(),
            Endpoint::Ssl {
                host: "fd00::1".into(),
                port: 9641
            }
        );
    }

    #[test]
    fn refuses_bad_forms_with_the_reason() {
        for (text, reason) in [
            ("/var/run/x.sock", "no scheme"),
            ("unix:", "empty socket path"),
            ("tcp:10.0.0.1", "no HOST:PORT"),
            ("tcp:10.0.0.1:http", "port \"http\" is not a number"),
            ("tcp:10.0.0.1:0", "port 0"),
            ("ssl::6641", "empty host"),
            ("ptcp:6641", "unknown scheme \"ptcp\""),
        ] {
            let e = Endpoint::parse(text).unwrap_err().to_string();
            assert!(e.contains(reason), "{text}: {e}");
            assert!(e.contains("expected unix:PATH"), "{e}");
        }
    }
}
