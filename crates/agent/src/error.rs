//! What can go wrong in a pass, at the host and packet-filter boundary.
//! Messages say which step failed; the cause is the `#[source]`, never
//! repeated in the message. `errchain::Chain` renders an error with its
//! causes for `/status`, the RouteAgent status and the log.

use std::error::Error as StdError;

/// A host-side error from a [`crate::host::HostOps`] implementation
/// (`hostnet::Error` in the binary), kept with its own causes.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Why a pass (or part of one) did not converge.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The topology does not list this node (or is otherwise unusable).
    #[error(transparent)]
    Topology(#[from] topology::TopologyError),
    /// The cluster's network plugin needs a datapath this agent does not
    /// implement: nothing is programmed.
    #[error(transparent)]
    Datapath(#[from] topology::UnsupportedDatapath),
    /// The host's interfaces could not be learned.
    #[error("cannot discover the host's interfaces")]
    Facts(#[source] BoxError),
    /// No packet-filter backend has been chosen yet.
    #[error("no packet-filter backend (not ready); `routeagent doctor` says why")]
    NotReady,
    /// The planner refused the topology for this host.
    #[error(transparent)]
    Plan(#[from] plan::PlanError),
    /// One host object could not be converged or removed; the source
    /// names it.
    #[error("host networking")]
    Host(#[source] BoxError),
    /// The packet-filter backend refused or failed an operation; the kernel
    /// keeps the previous ruleset.
    #[error("packet filter ({backend})")]
    Filter {
        /// The backend's name (`nftables`, `iptables-nft`, ...).
        backend: String,
        /// What it said.
        #[source]
        source: packetfilter::Error,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("route 10.245.0.0/16 table 150")]
    struct Leaf(#[source] std::io::Error);

    #[test]
    fn chain_names_every_cause_once() {
        let e = Error::Host(Box::new(Leaf(std::io::Error::other("File exists"))));
        assert_eq!(
            errchain::Chain(&e).to_string(),
            "host networking: route 10.245.0.0/16 table 150: File exists"
        );
    }
}
