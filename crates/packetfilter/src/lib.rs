//! The packet-filter backend interface, shaped around whole desired states.
//!
//! # Layout
//! - [`backend`]: the [`Backend`] trait (apply / check / remove / update_sets /
//!   verify), [`Applied`], and [`Owned`] (what the agent owns).
//! - [`error`]: [`Error`] naming the object the kernel or tool refused, with
//!   errno and meaning ([`errno_meaning`]).
//! - [`fake`]: [`Fake`], an in-memory backend with the same validation and
//!   all-or-nothing semantics, dumping canonical nft text for golden tests.
//!
//! The real backends live in their own crates: `packetfilter-nftables`
//! (netlink) and `packetfilter-iptables` (`iptables-restore`).

pub mod backend;
pub mod error;
pub mod fake;

pub use backend::{Applied, Backend, Owned};
pub use error::{errno_meaning, errno_name, Error, Object, Result};
pub use fake::Fake;
