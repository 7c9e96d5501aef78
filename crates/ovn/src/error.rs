//! [`Error`]: why the northbound side did not converge. The host side
//! never depends on it: the agent reports it and keeps going.

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a northbound pass failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A variable is missing or unusable.
    #[error("{var}: {reason}")]
    Config {
        /// The variable (`OVN_NB_DB`, `OVN_CERT`, ...).
        var: &'static str,
        /// What is wrong and the fix.
        reason: String,
    },
    /// The database could not be reached, answered badly, or refused the
    /// transaction (the source says which).
    #[error("OVN northbound database at {endpoint}")]
    Db {
        /// The endpoint (`unix:...`, `ssl:...`).
        endpoint: String,
        /// What the client saw.
        #[source]
        source: ovsdb::Error,
    },
    /// The cluster router does not exist (yet).
    #[error("logical router {router} not found in the northbound database at {endpoint}; OVN-Kubernetes creates it (is it running, is this the right database?)")]
    NoRouter {
        /// The router's name.
        router: String,
        /// The endpoint.
        endpoint: String,
    },
    /// The router disappeared between reading and writing.
    #[error("logical router {router} changed during the transaction (a mutate matched {count} rows); the next pass retries")]
    RouterChanged {
        /// The router's name.
        router: String,
        /// Rows the mutate matched.
        count: i64,
    },
}

impl Error {
    /// Whether the database was unreachable (as opposed to reachable but
    /// refusing or inconsistent).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Error::Db { source, .. } if source.is_connection_error())
    }
}
