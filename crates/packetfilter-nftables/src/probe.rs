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
    let mut attributes = vec![
        ChainAttribute::Table(PROBE_TABLE.into()),
        ChainAttribute::Name(PROBE_CHAIN.into()),
    ];
    attributes.extend(objects::base_attributes(ty, hook, priority, Policy::Accept));
    let object = Object::Chain {
        family,
        table: PROBE_TABLE.into(),
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
