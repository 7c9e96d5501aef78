//! The [`Backend`] trait: whole desired states in, atomic transactions out.

use crate::error::Result;
use ruleset::model::SetDelta;
use ruleset::RuleSet;
use std::time::Duration;

/// What the agent owns. `remove` deletes exactly this, whichever version of
/// the agent created it, and nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owned {
    /// Table names the agent uses or ever used, in any family (nftables), and
    /// the base of its chain names (iptables).
    pub table_names: Vec<String>,
}

/// What an apply did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Tables written.
    pub tables: usize,
    /// Chains written.
    pub chains: usize,
    /// Rules written.
    pub rules: usize,
    /// Set elements written.
    pub elements: usize,
    /// Messages (or lines) in the transaction.
    pub messages: usize,
    /// Wall time of the transaction, including the kernel's answer.
    pub duration: Duration,
}

/// A packet-filter backend. Implementations: nftables over netlink,
/// iptables-restore (nft and legacy variants), and [`crate::Fake`].
///
/// Every method either does all of its work or none of it: the kernel (or
/// the fake) never holds a half-applied state.
pub trait Backend: Send + Sync {
    /// Stable name for logs and status: `nftables`, `iptables-nft`,
    /// `iptables-legacy`, `fake`.
    fn name(&self) -> &str;

    /// Replaces every table of `desired` in one atomic transaction
    /// (`nft -f` of [`ruleset::render::replace_script`]). Tables the agent
    /// owns but `desired` lacks are left alone; use [`Backend::remove`].
    fn apply(&self, desired: &RuleSet) -> Result<Applied>;

    /// Asks whether `apply(desired)` would succeed, changing nothing
    /// (`nft -c -f`; a batch without BATCH_END).
    fn check(&self, desired: &RuleSet) -> Result<()>;

    /// Removes everything `owned` names, in one transaction; removing what is
    /// already gone is success. Foreign tables and chains stay byte-identical.
    fn remove(&self, owned: &Owned) -> Result<()>;

    /// Changes only set elements (`nft add element` / `nft delete element`),
    /// all deltas in one transaction.
    fn update_sets(&self, deltas: &[SetDelta]) -> Result<()>;

    /// Reads back what the kernel holds for the tables of `desired` and
    /// reports [`crate::Error::Drift`] when it differs (missing table, chain,
    /// rule count or set elements).
    fn verify(&self, desired: &RuleSet) -> Result<()>;
}
