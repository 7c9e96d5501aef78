//! Programs the host objects of a [`plan::HostPlan`] over rtnetlink (and
//! /proc/sys for global sysctls), touching only what the agent owns: its links
//! (`plan::host::ownership::LINKS`), addresses and FDB entries on them,
//! routes with protocol 166 in any table, rules with protocol 166 (or the
//! priorities/tables of older versions), and the sysctls it changed
//! (journaled, restored on uninstall). The packet filter is not here: the
//! agent applies it through a `packetfilter::Backend`.
//!
//! # Layout
//! - [`Host`] (`host.rs`): the rtnetlink connection and sysctl journal;
//!   [`Host::discover`] learns the facts the planner needs,
//!   [`Host::converge`] applies a plan idempotently, [`Host::remove_all`]
//!   removes everything owned, [`Host::snapshot`] pictures the namespace.
//! - [`links`], [`addresses`], [`fdb`], [`routes`], [`rules`]: one folder per
//!   kernel object, one file per verb (`list`, `add`/`append`/`replace`,
//!   `del`, `set`, `ensure`); each function names the `ip`/`bridge` command
//!   it equals.
//! - [`announce`]: gratuitous ARP for the tunnel addresses after a change
//!   (peers stop waiting for their 1 s ARP retry).
//! - [`sysctl`]: `sysctl -n`/`-w`: per-interface IPv4 keys over rtnetlink
//!   (`IFLA_INET_CONF`, works with /proc/sys read-only), global ones through
//!   /proc/sys when writable; the [`SysctlJournal`] of original values.
//! - [`ovn`]: the OVN datapath's facts (`ovn-k8s-mp0`, its address, the
//!   cluster router address) for [`plan::plan_ovn`].
//! - `facts.rs`: uplink / CNI / public interface discovery for the planner
//!   ([`Host::discover`] answers a [`plan::FactsQuery`]).
//! - [`monitor`]: `ip monitor`, filtered to the agent's objects, for quick
//!   repair of external changes.
//! - [`mod@snapshot`]: a comparable picture of the namespace and its diff.
//! - [`ConvergeReport`] (`report.rs`) and [`Error`] (`error.rs`).
//!
//! Every function acts on the network namespace of the thread that created
//! the [`Host`] (netlink) or that calls it (/proc/sys).

pub mod addresses;
pub mod announce;
mod error;
mod facts;
pub mod fdb;
mod host;
pub mod links;
pub mod monitor;
mod netlink;
pub mod ovn;
mod report;
pub mod routes;
pub mod rules;
pub mod snapshot;
pub mod sysctl;

pub use error::{Error, Result};
pub use host::Host;
pub use monitor::{watch, Event, Monitor};
pub use report::{Changes, ConvergeReport, Outcome};
pub use snapshot::{diff, snapshot, HostSnapshot};
pub use sysctl::{ensure_sysctls, restore, SysctlJournal};
