//! The host-networking side of a pass, behind a trait so the loop can be
//! tested without a kernel. The binary implements it over `hostnet`.

use crate::error::BoxError;
use ipnet::IpNet;
use plan::{FactsQuery, HostFacts, HostPlan, OvnFacts};
use std::fmt;
use std::future::Future;
use std::pin::Pin;

/// A boxed future, for object-safe async methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What converging (or removing) host objects did.
#[derive(Debug, Default)]
pub struct HostReport {
    /// Objects created, updated or deleted.
    pub changes: usize,
    /// Objects that could not be converged, each error naming its object.
    pub errors: Vec<BoxError>,
    /// Settings left as they are because the agent may not change them
    /// here (a global sysctl where /proc/sys is read-only), each with its
    /// fix; shown with the pass's warnings in `/status`.
    pub notices: Vec<String>,
}

/// How much of the host a converge looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Read everything back and repair any difference: the first pass,
    /// resyncs, drift, retries.
    Full,
    /// Send only what changed since the last converge the host completed
    /// (a topology change); an implementation may fall back to `Full`.
    Changes,
}

/// Host networking as the reconcile loop needs it.
pub trait HostOps: Send + Sync {
    /// Answers `query` from the host (`ip -j link` + `ip -j addr`).
    fn facts<'a>(&'a self, query: &'a FactsQuery) -> BoxFuture<'a, Result<HostFacts, BoxError>>;
    /// The OVN datapath's facts: `ovn-k8s-mp0`, its address and the
    /// cluster router address on the route for one of `cluster_cidrs`
    /// (`ip -4 addr show dev ovn-k8s-mp0`, `ip -4 route show dev
    /// ovn-k8s-mp0`); a missing port is empty facts, not an error.
    fn ovn_facts<'a>(
        &'a self,
        cluster_cidrs: &'a [IpNet],
    ) -> BoxFuture<'a, Result<OvnFacts, BoxError>>;
    /// Converges links, addresses, FDB, routes, rules and sysctls to `plan`
    /// (not the packet filter). Idempotent; per-object errors are reported,
    /// not fatal.
    fn converge<'a>(&'a self, plan: &'a HostPlan, scope: Scope) -> BoxFuture<'a, HostReport>;
    /// Removes everything the agent owns and restores changed sysctls;
    /// per-object errors are in the report.
    fn remove_all(&self) -> BoxFuture<'_, HostReport>;
}

/// Kinds of host objects the agent owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostObject {
    /// `vx-submariner`, `vxlan-tunnel`.
    Link,
    /// An address on an owned link.
    Address,
    /// A proto-166 route.
    Route,
    /// A policy-routing rule.
    Rule,
    /// An FDB entry on an owned link.
    Fdb,
}

/// Why the agent believes the host no longer holds what it programmed: a
/// pass follows at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// The host monitor saw one of the agent's objects change
    /// (`ip monitor`, filtered).
    Host {
        /// What kind of object.
        object: HostObject,
        /// Which one and what happened, as `ip monitor` would print it.
        detail: String,
    },
    /// The host monitor lost notifications: the state must be re-read.
    HostResync,
    /// The packet filter no longer matches the last applied ruleset.
    PacketFilter,
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Drift::Host { object, detail } => write!(f, "{object:?} {detail}"),
            Drift::HostResync => f.write_str("host monitor overrun"),
            Drift::PacketFilter => f.write_str("packet filter"),
        }
    }
}
