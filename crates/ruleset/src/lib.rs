//! The packet-filter rule model: a desired ruleset as a plain value.
//!
//! No I/O happens here. Backends (nftables over netlink, iptables-restore, the
//! in-memory fake) take a [`RuleSet`], and refuse nothing that [`validate`]
//! accepted unless the *host* lacks a feature.
//!
//! # Layout
//! - [`hook`]: families, chain types, hooks, priorities, policies, and the
//!   kernel's chain type x hook matrix ([`hook::chain_allowed`]).
//! - [`model`]: [`RuleSet`] -> [`Table`] -> [`Chain`] / [`Set`] -> [`Rule`]
//!   built from [`Match`]es and one [`Action`].
//! - [`validate`]: every rule the kernel would refuse, refused first, with a
//!   typed [`ValidationError`] that names the object and says what is valid.
//! - [`keywords`]: nft keywords, which cannot be names.
//! - [`sample`]: an agent-like ruleset using every construct (tests, docs).
//! - [`render`]: `Display` for every type, producing the text `nft -f` accepts.

pub mod hook;
pub mod keywords;
pub mod model;
pub mod render;
pub mod sample;
pub mod validate;

pub use hook::{ChainType, Family, Hook, IpVersion, Policy, Priority};
pub use model::{
    Action, AddrField, AddrTarget, BaseChain, Chain, IfaceDir, L4Proto, Match, Rule, RuleSet, Set,
    Table,
};
pub use validate::{validate, ValidationError, MAX_COMMENT_LEN, MAX_NAME_LEN};
