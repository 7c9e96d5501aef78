//! Benchmarks behind `routeagent bench`. Each creates its own network
//! namespace, measures there, and removes it; nothing touches the root
//! namespace.
//!
//! # Layout
//! - [`filter`]: programming one ruleset with an N-CIDR interval set through
//!   the netlink backend, `nft -f`, one `nft add element` per CIDR, and
//!   `iptables-restore`; plus single-element updates ([`filter::run`],
//!   [`filter::FilterReport`]).
//! - [`reconcile`]: a real agent converging a gateway with N remote
//!   clusters: time to converge, one change, peak RSS.
//! - [`status`]: the agent's `/status` inside its namespace, as JSON (also
//!   used by the binary's namespace tests).
//! - [`Error`]: what can stop a benchmark.

pub mod filter;
pub mod reconcile;
pub mod status;

/// What can stop a benchmark.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The benchmark namespace could not be created.
    #[error("cannot create the benchmark network namespace (run as root with iproute2 installed)")]
    Netns(#[source] std::io::Error),
    /// The netlink backend failed.
    #[error(transparent)]
    Backend(#[from] packetfilter::Error),
    /// An external tool failed or is missing.
    #[error("`{command}` failed: {detail}")]
    Tool {
        /// The command line.
        command: String,
        /// Exit status and the first lines of stderr, or the spawn error.
        detail: String,
    },
    /// Bad arguments.
    #[error("invalid benchmark arguments: {0}")]
    Arguments(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
