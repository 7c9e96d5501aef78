//! Asking the kernel without changing anything, for the capability probe:
//! dry-run batches (no `BATCH_END`) that try one base chain or one rule, and
//! the ruleset generation (`NFT_MSG_GETGEN`), which proves nothing changed.

use crate::batch::Batch;
use crate::elements::{self, Target};
use crate::objects;
use crate::rule::RuleContext;
use crate::Nftables;
use ipnet::IpNet;
use netlink_packet_core::NLM_F_CREATE;
use netlink_packet_netfilter::nftables::{
    ChainAttribute, ChainMessage, GenMessage, NfTablesMessage,
};
use packetfilter::{Error, Object, Result};
use ruleset::{ChainType, Family, Hook, Policy, Priority, Rule, Set};
use std::collections::HashMap;

/// The table name dry-run probes use (never committed).
pub const PROBE_TABLE: &str = "routeagent-probe";
const PROBE_CHAIN: &str = "probe";
const NFTA_GEN_ID: u16 = 1;

/// A priority the kernel accepts for `ty` on `hook`: `dstnat`/`srcnat` for
/// nat chains, `mangle` for route chains, `filter` otherwise.
pub fn default_priority(ty: ChainType, hook: Hook) -> Priority {
    match (ty, hook) {
        (ChainType::Nat, Hook::Prerouting | Hook::Output) => Priority::DSTNAT,
        (ChainType::Nat, _) => Priority::SRCNAT,
        (ChainType::Route, _) => Priority::MANGLE,
        (ChainType::Filter, _) => Priority::FILTER,
    }
}

fn base_chain(b: &mut Batch, family: Family, ty: ChainType, hook: Hook, priority: Priority) {
    base_chain_in(b, PROBE_TABLE, family, ty, hook, priority)
}

fn base_chain_in(
    b: &mut Batch,
    table: &str,
    family: Family,
    ty: ChainType,
    hook: Hook,
    priority: Priority,
) {
    let mut attributes = vec![
        ChainAttribute::Table(table.into()),
        ChainAttribute::Name(PROBE_CHAIN.into()),
    ];
    attributes.extend(objects::base_attributes(ty, hook, priority, Policy::Accept));
    let object = Object::Chain {
        family,
        table: table.into(),
        name: PROBE_CHAIN.into(),
    };
    b.add(
        family,
        NfTablesMessage::NewChain(ChainMessage { attributes }),
        NLM_F_CREATE,
        object,
    );
}

impl Nftables {
    /// Sends `build`'s batch as a dry run; the errno of the first refused
    /// message (or of the socket failure).
    fn dry_run(&self, build: impl FnOnce(&mut Batch)) -> std::result::Result<(), i32> {
        let mut conn = self.conn();
        let mut b = Batch::new(conn.next_seq());
        build(&mut b);
        match conn.transact(&b) {
            Ok(f) => match f.first() {
                None => Ok(()),
                Some(f) => Err(f.errno),
            },
            Err(Error::Io { source, .. }) => Err(source.raw_os_error().unwrap_or(5)),
            Err(e) => Err(e.errno().unwrap_or(5)),
        }
    }

    /// Whether the kernel accepts `type TY hook HOOK priority PRIO` in a
    /// `family` table (`nft -c add chain FAMILY routeagent-probe probe { ... }`).
    /// Nothing is committed. `Err(errno)`: EOPNOTSUPP for a refused
    /// type/hook/priority, ENOENT for an unknown type.
    pub fn probe_chain(
        &self,
        family: Family,
        ty: ChainType,
        hook: Hook,
        priority: Priority,
    ) -> std::result::Result<(), i32> {
        self.dry_run(|b| {
            objects::new_table(b, family, PROBE_TABLE);
            base_chain(b, family, ty, hook, priority);
        })
    }

    /// Whether the kernel accepts `rule` in a base chain of `ty` on `hook`
    /// (default priority) of a `family` table holding `sets`
    /// (`nft -c -f` of such a table). Nothing is committed. Note that a dry
    /// run misses the few checks the kernel makes only at commit.
    pub fn probe_rule(
        &self,
        family: Family,
        ty: ChainType,
        hook: Hook,
        rule: &Rule,
        sets: &[Set],
    ) -> std::result::Result<(), i32> {
        self.dry_run(|b| {
            objects::new_table(b, family, PROBE_TABLE);
            let mut ids = HashMap::new();
            for (i, s) in sets.iter().enumerate() {
                let id = i as u32 + 1;
                objects::new_set(b, family, PROBE_TABLE, s, id);
                ids.insert(s.name.clone(), id);
                let prefixes: Vec<IpNet> = s.elements.iter().copied().collect();
                let target = Target {
                    family,
                    table: PROBE_TABLE,
                    set: &s.name,
                    set_id: Some(id),
                };
                elements::add_messages(b, &target, &prefixes, false);
            }
            base_chain(b, family, ty, hook, default_priority(ty, hook));
            let ctx = RuleContext {
                family,
                set_ids: &ids,
            };
            objects::new_rule(b, &ctx, PROBE_TABLE, PROBE_CHAIN, 0, rule);
        })
    }

    /// Asks many questions in ONE dry-run batch (nothing committed). Each
    /// question is a table holding one base chain, at most one rule, and the
    /// sets the rule uses; each goes into its own table
    /// (`routeagent-probe-N`) so one refusal cannot affect another answer.
    /// The kernel keeps processing a batch after a refused message, and the
    /// abort at the end (which waits for an RCU grace period) is paid once,
    /// not once per question. Returns one answer per question, in order.
    pub fn probe_many(
        &self,
        questions: &[ruleset::Table],
    ) -> std::result::Result<Vec<std::result::Result<(), i32>>, i32> {
        let mut conn = self.conn();
        let mut b = Batch::new(conn.next_seq());
        let mut ranges = Vec::with_capacity(questions.len());
        for (i, q) in questions.iter().enumerate() {
            let start = b.end_seq();
            let table = format!("{PROBE_TABLE}-{i}");
            let Some(chain) = q.chains.first() else {
                ranges.push((start, start, Some(22)));
                continue;
            };
            let Some(base) = chain.base else {
                ranges.push((start, start, Some(22)));
                continue;
            };
            objects::new_table(&mut b, q.family, &table);
            let mut ids = HashMap::new();
            for (k, set) in q.sets.iter().enumerate() {
                let id = (i * 16 + k) as u32 + 1;
                objects::new_set(&mut b, q.family, &table, set, id);
                ids.insert(set.name.clone(), id);
                let prefixes: Vec<IpNet> = set.elements.iter().copied().collect();
                let target = Target {
                    family: q.family,
                    table: &table,
                    set: &set.name,
                    set_id: Some(id),
                };
                elements::add_messages(&mut b, &target, &prefixes, false);
            }
            base_chain_in(&mut b, &table, q.family, base.ty, base.hook, base.priority);
            if let Some(rule) = chain.rules.first() {
                let ctx = RuleContext {
                    family: q.family,
                    set_ids: &ids,
                };
                objects::new_rule(&mut b, &ctx, &table, PROBE_CHAIN, 0, rule);
            }
            ranges.push((start, b.end_seq(), None));
        }
        let failures = match conn.transact(&b) {
            Ok(f) => f,
            Err(Error::Io { source, .. }) => return Err(source.raw_os_error().unwrap_or(5)),
            Err(e) => return Err(e.errno().unwrap_or(5)),
        };
        // A failure outside every question (on BATCH_BEGIN: no CAP_NET_ADMIN,
        // no nf_tables) refuses the whole batch: no question was answered.
        let in_some = |seq: u32| {
            ranges
                .iter()
                .any(|&(start, end, _)| seq.wrapping_sub(start) < end.wrapping_sub(start))
        };
        if let Some(f) = failures.iter().find(|f| !in_some(f.seq)) {
            return Err(f.errno);
        }
        Ok(ranges
            .iter()
            .map(|&(start, end, fixed)| {
                if let Some(errno) = fixed {
                    return Err(errno);
                }
                let within = |seq: u32| seq.wrapping_sub(start) < end.wrapping_sub(start);
                match failures.iter().find(|f| within(f.seq)) {
                    Some(f) => Err(f.errno),
                    None => Ok(()),
                }
            })
            .collect())
    }

    /// The nf_tables ruleset generation (`NFT_MSG_GETGEN`): it changes with
    /// every committed transaction and never with a dry run.
    pub fn generation(&self) -> Result<u32> {
        let mut conn = self.conn();
        let answers = conn
            .request(
                None,
                NfTablesMessage::GetGen(GenMessage { attributes: vec![] }),
                false,
            )?
            .map_err(|e| crate::errors::request(Object::Transaction, e))?;
        let msg = answers.first().map(Vec::as_slice).unwrap_or_default();
        let mut off = 0;
        while off + 8 <= msg.len() {
            let len = u16::from_ne_bytes([msg[off], msg[off + 1]]) as usize;
            let kind = u16::from_ne_bytes([msg[off + 2], msg[off + 3]]);
            if kind == NFTA_GEN_ID {
                return Ok(u32::from_be_bytes([
                    msg[off + 4],
                    msg[off + 5],
                    msg[off + 6],
                    msg[off + 7],
                ]));
            }
            if len < 4 {
                break;
            }
            off += (len + 3) & !3;
        }
        Err(crate::errors::io(
            "reading the ruleset generation",
            std::io::Error::other("NFT_MSG_NEWGEN without NFTA_GEN_ID"),
        ))
    }
}
