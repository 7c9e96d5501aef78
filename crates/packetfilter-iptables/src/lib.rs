//! The packet-filter [`packetfilter::Backend`] through `iptables-restore
//! --noflush` and `ip6tables-restore` (the `-nft-` or `-legacy-` binaries)
//! and `ipset restore`, for hosts where nftables cannot carry the agent's
//! rules or whose other components use iptables.
//!
//! # Layout
//! - [`names`]: `RA-` chain and ipset names; which built-in table and chain
//!   a model base chain hooks into (the MSS chain -> mangle POSTROUTING).
//! - [`render`]: the model translated to iptables rule arguments per IP
//!   version and table, with sets as ipsets or expanded per prefix, and
//!   self-SNAT as identity `NETMAP`.
//! - `rule`: one model rule as rule arguments (sets as `-m set` or expanded;
//!   negated sets without ipset as a helper chain).
//! - [`save`]: parsing `iptables-save` output (read-only).
//! - [`script`]: the restore file that reaches the desired state from the
//!   saved one, keeping each jump exactly once (see its docs).
//! - [`ipset`]: `ipset restore` scripts (create, swap, add/del, destroy).
//! - [`tool`]: running the tools; failed restore lines mapped back to the
//!   model rule.
//! - [`backend`]: [`Iptables`], the `Backend` implementation.

pub mod backend;
pub mod ipset;
pub mod names;
pub mod render;
mod rule;
pub mod save;
pub mod script;
pub mod tool;

pub use backend::Iptables;
pub use capabilities::IptablesVariant;
