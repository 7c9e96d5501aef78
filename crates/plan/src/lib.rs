//! The planner: from a topology snapshot, this node and the host's
//! capabilities to a [`HostPlan`], the whole desired state of the host.
//!
//! # Layout
//! - [`host`]: the host objects a plan holds ([`Link`], [`Address`],
//!   [`FdbEntry`], [`Route`], [`RoutingRule`], [`Sysctl`]) and what the agent
//!   owns ([`host::ownership`]). Pure data; `hostnet` programs them.

pub mod host;

pub use host::{Address, FdbEntry, HostFacts, HostPlan, Iface, Link, LinkKind, Route, RoutingRule, Sysctl, Vxlan};
