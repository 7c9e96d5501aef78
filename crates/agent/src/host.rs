//! The host-networking side of a pass, behind a trait so the loop can be
//! tested without a kernel. The binary implements it over `hostnet`.

use plan::{HostFacts, HostPlan};
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

/// A boxed future, for object-safe async methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What converging the host did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostReport {
    /// Objects created, updated or deleted.
    pub changes: usize,
    /// Objects that could not be converged, one sentence each naming the object.
    pub errors: Vec<String>,
}

/// Host networking as the reconcile loop needs it.
pub trait HostOps: Send + Sync {
    /// Learns the interfaces the planner needs (`ip -o addr`, `ip link`).
    fn facts<'a>(
        &'a self,
        node_ip: IpAddr,
        cluster_cidrs: &'a [ipnet::IpNet],
        cni_override: Option<&'a str>,
        public_ip: Option<IpAddr>,
    ) -> BoxFuture<'a, Result<HostFacts, String>>;
    /// Converges links, addresses, FDB, routes, rules and sysctls to `plan`
    /// (not the packet filter). Idempotent; per-object errors are reported,
    /// not fatal.
    fn converge<'a>(&'a self, plan: &'a HostPlan) -> BoxFuture<'a, HostReport>;
    /// Removes everything the agent owns and restores changed sysctls.
    fn remove_all(&self) -> BoxFuture<'_, Result<(), String>>;
}
