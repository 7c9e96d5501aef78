//! [`Error`]: what can go wrong between the client and an OVSDB server.
//! Messages name the step and the endpoint or method; the cause is the
//! `#[source]`, never repeated in the message.

use std::time::Duration;

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why an OVSDB call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The endpoint string is not `unix:PATH`, `tcp:HOST:PORT` or
    /// `ssl:HOST:PORT`.
    #[error("bad OVSDB endpoint {text:?}: {reason} (expected unix:PATH, tcp:HOST:PORT or ssl:HOST:PORT)")]
    Endpoint {
        /// The endpoint as given.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A TLS document (certificate, key, CA) is missing or unusable.
    #[error("TLS {what} {origin}: {reason}")]
    TlsFile {
        /// `certificate (OVN_CERT)`, `private key (OVN_PK)` or `CA (OVN_CA)`.
        what: &'static str,
        /// Where it comes from: the path as given, `secret://NS/NAME/KEY`,
        /// `configmap://NS/NAME/KEY`.
        origin: String,
        /// What is wrong with it, and the fix.
        reason: String,
    },
    /// rustls refused the configuration or the handshake.
    #[error("TLS with {endpoint}")]
    Tls {
        /// The endpoint.
        endpoint: String,
        /// What rustls or the socket said.
        #[source]
        source: std::io::Error,
    },
    /// The socket could not be opened.
    #[error("cannot connect to OVSDB at {endpoint}")]
    Connect {
        /// The endpoint.
        endpoint: String,
        /// What the socket said.
        #[source]
        source: std::io::Error,
    },
    /// A read or write on an open connection failed.
    #[error("OVSDB connection I/O")]
    Io(#[source] std::io::Error),
    /// The connection is closed (the server went away, or an earlier error
    /// closed it); reconnect.
    #[error("OVSDB connection closed: {reason}")]
    Closed {
        /// Why it closed.
        reason: String,
    },
    /// The server sent something that is not the JSON-RPC RFC 7047 asks
    /// for (not JSON, a reply of the wrong shape).
    #[error("malformed OVSDB message: {reason}")]
    Malformed {
        /// What is wrong, with an excerpt of the message.
        reason: String,
    },
    /// The server answered a request with a JSON-RPC error.
    #[error("OVSDB {method} failed: {error}")]
    Rpc {
        /// The request's method.
        method: String,
        /// The error member of the reply, as JSON text.
        error: String,
    },
    /// The server refused a transaction: one operation failed, so none
    /// took effect.
    #[error("OVSDB transaction refused at operation {index} ({op}): {error}{}", details.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Transaction {
        /// The failing operation's position in the transaction.
        index: usize,
        /// The operation (`insert Logical_Router_Policy`, ...).
        op: String,
        /// The RFC 7047 error tag (`constraint violation`, ...).
        error: String,
        /// The server's details, if any.
        details: Option<String>,
    },
    /// No reply within the request timeout.
    #[error("OVSDB {method} got no reply within {timeout:?}")]
    Timeout {
        /// The request's method.
        method: String,
        /// How long the client waited.
        timeout: Duration,
    },
    /// The last connection attempt failed and the backoff has not run out.
    #[error("OVSDB at {endpoint} unreachable, next attempt in {retry_in:?}{}", last.as_deref().map(|l| format!("; last attempt: {l}")).unwrap_or_default())]
    Backoff {
        /// The endpoint.
        endpoint: String,
        /// Time until the next attempt.
        retry_in: Duration,
        /// Why the last attempt failed, with its causes (so a status
        /// written between attempts still names the fix).
        last: Option<String>,
    },
}

impl Error {
    /// Whether the connection is unusable after this error (the caller
    /// should drop the client and reconnect). A refused transaction or a
    /// JSON-RPC error leaves the connection usable.
    pub fn is_connection_error(&self) -> bool {
        matches!(
            self,
            Error::Connect { .. }
                | Error::Tls { .. }
                | Error::Io(_)
                | Error::Closed { .. }
                | Error::Timeout { .. }
                | Error::Backoff { .. }
        )
    }

    pub(crate) fn malformed(reason: impl Into<String>, msg: &serde_json::Value) -> Error {
        Error::Malformed {
            reason: format!("{} in {}", reason.into(), excerpt(&msg.to_string())),
        }
    }
}

/// The first 200 characters of a message, for error texts.
pub(crate) fn excerpt(text: &str) -> String {
    const MAX: usize = 200;
    match text.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_error_names_operation_and_details() {
        let e = Error::Transaction {
            index: 1,
            op: "insert Logical_Router_Policy".into(),
            error: "constraint violation".into(),
            details: Some("no row".into()),
        };
        assert_eq!(
            e.to_string(),
            "OVSDB transaction refused at operation 1 (insert Logical_Router_Policy): constraint violation: no row"
        );
        assert!(!e.is_connection_error());
    }

    #[test]
    fn excerpt_cuts_long_text() {
        let long = "x".repeat(500);
        assert_eq!(excerpt(&long).len(), 203);
        assert_eq!(excerpt("short"), "short");
    }
}
