//! The nftables backend over netlink: [`Nftables`] implements
//! [`packetfilter::Backend`] by sending NETLINK_NETFILTER batches, so no
//! `nft` binary is needed at run time. Every desired state is one batch that
//! the kernel commits entirely or not at all.
//!
//! # Layout
//! - [`Nftables`] (this file): the socket behind a mutex and the `Backend`
//!   methods, each one batch.
//! - `socket`: opening the socket (large buffers, extended ACKs, capped
//!   ACKs), sending a batch and collecting ACKs/errors by sequence number,
//!   dumps and single requests.
//! - `batch`: one batch as one buffer (`BATCH_BEGIN` ... `BATCH_END`), and
//!   which object each sequence number stands for.
//! - `expr`: nf_tables expressions as nft encodes them (payload, cmp,
//!   bitwise, lookup, meta, immediate, counter, nat, masq, rt, byteorder,
//!   exthdr).
//! - `rule`: a model rule as expressions, with nft's implicit dependencies.
//! - `objects`: table, chain, set and rule messages.
//! - `elements`: interval-set elements, chunked.
//! - `transaction`: the replace, remove and set-update batches.
//! - `verify`: dumps read back and compared: chains, rules per chain, and
//!   the exact elements of every set.
//! - [`probe`]: dry-run probes of chains and rules, and the generation.
//! - `errors`: refused messages and socket failures as [`packetfilter::Error`].
//! - [`inspect`]: tables the agent does not own, read as far as telling
//!   their objects' owners needs, and chosen objects of them deleted in one
//!   batch (taking a node over from another route agent).

mod batch;
mod elements;
mod errors;
mod expr;
pub mod inspect;
mod objects;
pub mod probe;
mod rule;
mod socket;
mod transaction;
mod verify;

use packetfilter::{Applied, Backend, Owned, Result};
use ruleset::model::SetDelta;
use ruleset::RuleSet;
use socket::Conn;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

/// The nftables backend. Holds one NETLINK_NETFILTER socket bound to the
/// network namespace of the thread that called [`Nftables::new`]; it may be
/// used from any thread afterwards.
pub struct Nftables {
    conn: Mutex<Conn>,
}

impl std::fmt::Debug for Nftables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Nftables")
    }
}

impl Nftables {
    /// Opens a netlink socket in the calling thread's network namespace
    /// (what `nft` does on start). Needs CAP_NET_ADMIN there to change
    /// anything.
    pub fn new() -> Result<Nftables> {
        Ok(Nftables {
            conn: Mutex::new(Conn::open()?),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Conn> {
        // A panic while holding the lock leaves at worst unread answers,
        // which the next exchange drains.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends the replace batch of `desired`, committing if `commit`.
    fn replace(&self, desired: &RuleSet, commit: bool) -> Result<Applied> {
        ruleset::validate(desired)?;
        self.replace_unvalidated(desired, commit)
    }

    /// Applies `desired` WITHOUT validating it first, so tests can make the
    /// kernel refuse something and check how the refusal is reported. The
    /// agent never calls this.
    #[doc(hidden)]
    pub fn apply_unvalidated(&self, desired: &RuleSet) -> Result<Applied> {
        self.replace_unvalidated(desired, true)
    }

    fn replace_unvalidated(&self, desired: &RuleSet, commit: bool) -> Result<Applied> {
        let start = Instant::now();
        let mut conn = self.conn();
        let mut b = transaction::replace(conn.next_seq(), desired);
        if commit {
            b.end();
        }
        let failures = conn.transact(&b)?;
        if let Some(e) = errors::kernel(&b, &failures) {
            return Err(e);
        }
        let chains = desired.tables.iter().map(|t| t.chains.len()).sum();
        let rules = desired
            .tables
            .iter()
            .flat_map(|t| &t.chains)
            .map(|c| c.rules.len())
            .sum();
        Ok(Applied {
            tables: desired.tables.len(),
            chains,
            rules,
            elements: desired.element_count(),
            messages: b.messages(),
            duration: start.elapsed(),
        })
    }
}

impl Backend for Nftables {
    fn name(&self) -> &str {
        "nftables"
    }

    /// `nft -f` of `ruleset::render::replace_script(desired)`, as one batch.
    fn apply(&self, desired: &RuleSet) -> Result<Applied> {
        let applied = self.replace(desired, true)?;
        tracing::debug!(
            tables = applied.tables,
            chains = applied.chains,
            rules = applied.rules,
            elements = applied.elements,
            messages = applied.messages,
            ms = applied.duration.as_secs_f64() * 1e3,
            "nftables ruleset applied"
        );
        Ok(applied)
    }

    /// `nft -c -f` of the replace script: the same batch without
    /// `BATCH_END`; nothing is committed and the generation does not change.
    fn check(&self, desired: &RuleSet) -> Result<()> {
        self.replace(desired, false).map(|_| ())
    }

    /// `nft add table F N; nft delete table F N` for every family and owned
    /// name, in one batch.
    fn remove(&self, owned: &Owned) -> Result<()> {
        if owned.table_names.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn();
        let b = transaction::remove(conn.next_seq(), &owned.table_names);
        let failures = conn.transact(&b)?;
        match errors::kernel(&b, &failures) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// `nft delete element ...; nft add element ...` for every delta, in one
    /// batch of element messages only.
    fn update_sets(&self, deltas: &[SetDelta]) -> Result<()> {
        if deltas
            .iter()
            .all(|d| d.add.is_empty() && d.remove.is_empty())
        {
            return Ok(());
        }
        let mut conn = self.conn();
        let b = transaction::update_sets(conn.next_seq(), deltas);
        let failures = conn.transact(&b)?;
        match errors::kernel(&b, &failures) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Dumps chains, rules and set elements of every desired table and
    /// compares their counts.
    fn verify(&self, desired: &RuleSet) -> Result<()> {
        verify::verify(&mut self.conn(), desired)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn backend_can_be_shared_between_threads() {
        fn shared<T: Send + Sync + 'static>() {}
        shared::<super::Nftables>();
        let _: Option<Box<dyn packetfilter::Backend>> =
            None::<Box<super::Nftables>>.map(|b| b as _);
    }
}
