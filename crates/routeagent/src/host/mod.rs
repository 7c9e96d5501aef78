//! The agent's host side over `hostnet`.
//!
//! - [`adapter`]: [`HostnetOps`], `agent::host::HostOps` over `hostnet::Host`.
//! - [`journal`]: the sysctl journal kept in the state directory, so
//!   uninstall restores original values even after a restart.
//! - [`monitor`]: `hostnet`'s netlink monitor as typed drift events.

pub mod adapter;
pub mod journal;
pub mod monitor;

pub use adapter::{HostnetOps, JournalStore};
