//! Multi-cluster labs in network namespaces: real clusters' worth of nodes
//! and pods on one machine, one `routeagent run` per node, real traffic
//! across clusters, and the checks that prove the agent's main job.
//!
//! Everything lives in namespaces named `PREFIX-*`; the root namespace is
//! never touched (only `/run/netns` entries are created and removed).
//!
//! # Layout
//! - [`config`]: [`LabConfig`] (size, prefix, agent binary, work dir).
//! - [`plan`]: the address plan and the topology files (pure).
//! - [`ns`]: running `ip`/`nft`/`sh` inside a namespace, errors naming it.
//! - [`build`]: namespaces, links, routes, sysctls, CNI-like nftables table.
//! - [`foreign`]: other components' objects on the gateways (XFRM policies,
//!   Globalnet's chains and sets, a foreign table 100), and their listing.
//! - [`engine`]: what the lab plays on the active gateways: Submariner's
//!   gateway engine (WireGuard, VXLAN cable driver) and Globalnet's SNAT.
//! - [`agents`]: starting/stopping agents, `/status`, waiting to converge.
//! - [`container`]: agents as podman containers (`--agents container`).
//! - [`pod`]: a DaemonSet's container as `podman run` flags (pure).
//! - [`exec`]: `routeagent` commands for a node as its agent runs
//!   (doctor, uninstall).
//! - [`lab`]: [`Lab`] — up, down (also on drop), status, restarts, rewrites.
//! - [`ovn`]: [`ovn::OvnChassis`], a real OVN datapath on one chassis
//!   (ovn-northd, ovn-controller, userspace ovs-vswitchd) in a namespace.
//! - [`traffic`]: ping, checksummed TCP transfers, probes, iperf3.
//! - [`snapshot`]: normalised host snapshots and their diff.
//! - [`checks`]: one module per check of the main job; [`demo`] runs them.
//! - [`bench`]: `routeagent bench failover|throughput`, repeated checks'
//!   measurements in one lab.
//! - [`stats`]: median, quartiles and range of repeated measurements.
//! - [`report`]: [`DemoReport`], [`Check`], [`Figures`].
//! - `manual` (tests only): nodes programmed by hand, to test the plumbing
//!   and the checks' physics without the agent.
//! - [`cli`]: what `routeagent lab up|down|status|demo` prints and returns.
//! - [`error`]: [`LabError`], naming the namespace, command and stderr.

pub mod agents;
pub mod bench;
pub mod build;
pub mod checks;
pub mod cli;
pub mod config;
pub mod container;
pub mod engine;
pub mod error;
pub mod exec;
pub mod foreign;
pub mod lab;
pub mod ns;
pub mod ovn;
pub mod plan;
pub mod pod;
pub mod report;
pub mod snapshot;
pub mod stats;
pub mod traffic;

#[cfg(test)]
mod manual;

pub use checks::demo;
pub use config::{AgentMode, Cable, LabConfig};
pub use error::{LabError, Result};
pub use lab::{down_prefix, status_prefix, Lab};
pub use netns;
pub use report::{Check, DemoReport, Figures};
