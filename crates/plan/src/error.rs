//! Why a plan could not be made.

use topology::TopologyError;

/// Why [`crate::plan`] failed, naming the object and the fix.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The topology is invalid, or the node is not in it.
    #[error(transparent)]
    Topology(#[from] TopologyError),
    /// A tunnel link's MTU would be below the IPv4 minimum.
    #[error("{link}: MTU {mtu} (underlay {underlay} MTU {underlay_mtu} - 50) is below 576; raise the underlay MTU or set tunables.mtu")]
    Mtu {
        /// The tunnel link.
        link: String,
        /// The MTU it would get.
        mtu: u32,
        /// The underlay interface.
        underlay: String,
        /// The underlay's MTU.
        underlay_mtu: u32,
    },
    /// The planned ruleset fails validation: a bug in the planner.
    #[error("the planned packet-filter ruleset is invalid (a planner bug; please report it)")]
    Ruleset(#[source] Box<ruleset::ValidationError>),
}
