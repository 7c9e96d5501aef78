//! Reading tables the agent does not own (`nft list table`), as much as
//! recognising their objects needs, and deleting chosen objects of them in
//! one batch. Used to take a node over from another route agent: its
//! tables are read, its own objects are told apart from those of others
//! sharing the table, and only its own are deleted.

use crate::batch::Batch;
use crate::errors;
use crate::verify::{attr_str, attrs};
use crate::Nftables;
use netlink_packet_netfilter::nftables::{
    ChainAttribute, ChainMessage, NfTablesMessage, RuleAttribute, RuleMessage, SetAttribute,
    SetMessage, TableAttribute, TableMessage,
};
use packetfilter::{Object, Result};
use ruleset::Family;

/// What a rule of a foreign table does, as far as telling its owner needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleSummary {
    /// The rule handle (`nft -a list`).
    pub handle: u64,
    /// Chains it jumps or goes to (`jump C`, `goto C`).
    pub jumps: Vec<String>,
    /// Sets it looks up (`@S`).
    pub sets: Vec<String>,
    /// Its final verdict when it has one: `accept`, `drop`, `return`,
    /// `jump`, `goto`, `continue`.
    pub verdict: Option<String>,
    /// Expression names in order (`payload`, `cmp`, `nat`, `exthdr`...).
    pub exprs: Vec<String>,
    /// Whether it reads or sets the packet mark (`meta mark`).
    pub mark: bool,
    /// Its comment, if any.
    pub comment: Option<String>,
}

/// One chain of a foreign table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainSummary {
    /// Name.
    pub name: String,
    /// `type T hook H priority P` of a base chain: (type, hook number,
    /// priority); `None` for a regular chain.
    pub base: Option<(String, u32, i32)>,
    /// Rules in order.
    pub rules: Vec<RuleSummary>,
}

/// One foreign table: its chains and set names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSummary {
    /// Family.
    pub family: Family,
    /// Name.
    pub name: String,
    /// Chains.
    pub chains: Vec<ChainSummary>,
    /// Set names.
    pub sets: Vec<String>,
}

/// One object to delete from a foreign table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removal {
    /// `nft delete rule F T C handle H`.
    Rule {
        /// Chain.
        chain: String,
        /// Handle.
        handle: u64,
    },
    /// `nft delete chain F T C` (its rules must be gone, or deleted earlier
    /// in the same list).
    Chain(String),
    /// `nft delete set F T S`.
    Set(String),
    /// `nft delete table F T` (with everything in it).
    Table,
}

const NFTA_RULE_HANDLE: u16 = 3;
const NFTA_RULE_EXPRESSIONS: u16 = 4;
const NFTA_RULE_USERDATA: u16 = 7;
const NFTA_CHAIN_HOOK: u16 = 4;
const NFTA_CHAIN_TYPE: u16 = 7;
const NFT_META_MARK: u32 = 3;

fn be32(v: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(v.get(..4)?.try_into().ok()?))
}

fn find<'a>(a: &[(u16, &'a [u8])], kind: u16) -> Option<&'a [u8]> {
    a.iter().find(|(k, _)| *k == kind).map(|(_, v)| *v)
}

/// Decodes one `NFTA_RULE_*` attribute list.
fn rule_summary(a: &[(u16, &[u8])]) -> RuleSummary {
    let mut r = RuleSummary {
        handle: find(a, NFTA_RULE_HANDLE)
            .and_then(|v| Some(u64::from_be_bytes(v.get(..8)?.try_into().ok()?)))
            .unwrap_or(0),
        ..Default::default()
    };
    for (_, elem) in find(a, NFTA_RULE_EXPRESSIONS)
        .map(attrs)
        .unwrap_or_default()
    {
        let e = attrs(elem);
        let name = attr_str(&e, 1).unwrap_or_default();
        let data = find(&e, 2).map(attrs).unwrap_or_default();
        match name.as_str() {
            "immediate" => {
                // NFTA_IMMEDIATE_DATA { NFTA_DATA_VERDICT { CODE, CHAIN } }
                let verdict = find(&data, 2)
                    .map(attrs)
                    .and_then(|d| find(&d, 2).map(attrs));
                if let Some(v) = verdict {
                    let code = find(&v, 1).and_then(be32).map(|c| c as i32);
                    let word = match code {
                        Some(1) => "accept",
                        Some(0) => "drop",
                        Some(-1) => "continue",
                        Some(-3) => "jump",
                        Some(-4) => "goto",
                        Some(-5) => "return",
                        _ => "other",
                    };
                    r.verdict = Some(word.into());
                    if let Some(c) = attr_str(&v, 2) {
                        r.jumps.push(c);
                    }
                }
            }
            "lookup" => r.sets.extend(attr_str(&data, 1)),
            "meta" if find(&data, 2).and_then(be32) == Some(NFT_META_MARK) => r.mark = true,
            _ => {}
        }
        r.exprs.push(name);
    }
    if let Some(u) = find(a, NFTA_RULE_USERDATA) {
        // TLVs: type (1 byte), length (1 byte), value; the comment is type 0.
        let mut off = 0;
        while off + 2 <= u.len() {
            let (t, l) = (u[off], u[off + 1] as usize);
            let Some(v) = u.get(off + 2..off + 2 + l) else {
                break;
            };
            if t == 0 {
                r.comment = Some(crate::verify::string(v));
            }
            off += 2 + l;
        }
    }
    r
}

impl Nftables {
    /// The names of every table of `family` (`nft list tables FAMILY`).
    pub fn list_tables(&self, family: Family) -> Result<Vec<String>> {
        let mut conn = self.conn();
        let get = NfTablesMessage::GetTable(TableMessage { attributes: vec![] });
        let answers = conn
            .request(Some(family), get, true)?
            .map_err(|e| errors::request(Object::Transaction, e))?;
        Ok(answers
            .iter()
            .filter_map(|m| attr_str(&attrs(m), 1))
            .collect())
    }

    /// Chains (with rule summaries) and set names of one table, or `None`
    /// when it does not exist (`nft -a list table FAMILY NAME`).
    pub fn inspect_table(&self, family: Family, name: &str) -> Result<Option<TableSummary>> {
        const ENOENT: i32 = 2;
        let mut conn = self.conn();
        let fam = Some(family);
        let tobj = || Object::Table {
            family,
            name: name.into(),
        };
        let get = NfTablesMessage::GetTable(TableMessage {
            attributes: vec![TableAttribute::Name(name.into())],
        });
        match conn.request(fam, get, false)? {
            Err(ENOENT) => return Ok(None),
            Err(e) => return Err(errors::request(tobj(), e)),
            Ok(_) => {}
        }
        let mut t = TableSummary {
            family,
            name: name.into(),
            chains: vec![],
            sets: vec![],
        };
        let chains = NfTablesMessage::GetChain(ChainMessage {
            attributes: vec![ChainAttribute::Table(name.into())],
        });
        for m in conn
            .request(fam, chains, true)?
            .map_err(|e| errors::request(tobj(), e))?
        {
            let a = attrs(&m);
            if attr_str(&a, 1).as_deref() != Some(name) {
                continue;
            }
            let base = find(&a, NFTA_CHAIN_HOOK).map(|h| {
                let h = attrs(h);
                let hook = find(&h, 1).and_then(be32).unwrap_or(0);
                let prio = find(&h, 2).and_then(be32).unwrap_or(0) as i32;
                (
                    attr_str(&a, NFTA_CHAIN_TYPE).unwrap_or_default(),
                    hook,
                    prio,
                )
            });
            t.chains.push(ChainSummary {
                name: attr_str(&a, 3).unwrap_or_default(),
                base,
                rules: vec![],
            });
        }
        let rules = NfTablesMessage::GetRule(RuleMessage {
            attributes: vec![RuleAttribute::Table(name.into())],
        });
        for m in conn
            .request(fam, rules, true)?
            .map_err(|e| errors::request(tobj(), e))?
        {
            let a = attrs(&m);
            if attr_str(&a, 1).as_deref() != Some(name) {
                continue;
            }
            let chain = attr_str(&a, 2).unwrap_or_default();
            if let Some(c) = t.chains.iter_mut().find(|c| c.name == chain) {
                c.rules.push(rule_summary(&a));
            }
        }
        let sets = NfTablesMessage::GetSet(SetMessage {
            attributes: vec![SetAttribute::Table(name.into())],
        });
        for m in conn
            .request(fam, sets, true)?
            .map_err(|e| errors::request(tobj(), e))?
        {
            let a = attrs(&m);
            if attr_str(&a, 1).as_deref() == Some(name) {
                t.sets.extend(attr_str(&a, 2));
            }
        }
        Ok(Some(t))
    }

    /// Deletes `removals` from table `family name`, in this order, in one
    /// batch: all of them or none. Equals one `nft -f` of `delete rule ...
    /// handle H`, `delete chain ...`, `delete set ...`, `delete table ...`.
    pub fn remove_objects(&self, family: Family, table: &str, removals: &[Removal]) -> Result<()> {
        if removals.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn();
        let mut b = Batch::new(conn.next_seq());
        for r in removals {
            let (msg, object) = match r {
                Removal::Rule { chain, handle } => (
                    NfTablesMessage::DeleteRule(RuleMessage {
                        attributes: vec![
                            RuleAttribute::Table(table.into()),
                            RuleAttribute::Chain(chain.clone()),
                            RuleAttribute::Handle(*handle),
                        ],
                    }),
                    Object::Rule {
                        family,
                        table: table.into(),
                        chain: chain.clone(),
                        index: 0,
                        text: format!("handle {handle}"),
                    },
                ),
                Removal::Chain(c) => (
                    NfTablesMessage::DeleteChain(ChainMessage {
                        attributes: vec![
                            ChainAttribute::Table(table.into()),
                            ChainAttribute::Name(c.clone()),
                        ],
                    }),
                    Object::Chain {
                        family,
                        table: table.into(),
                        name: c.clone(),
                    },
                ),
                Removal::Set(s) => (
                    NfTablesMessage::DeleteSet(SetMessage {
                        attributes: vec![
                            SetAttribute::Table(table.into()),
                            SetAttribute::Name(s.clone()),
                        ],
                    }),
                    Object::Set {
                        family,
                        table: table.into(),
                        name: s.clone(),
                    },
                ),
                Removal::Table => (
                    NfTablesMessage::DeleteTable(TableMessage {
                        attributes: vec![TableAttribute::Name(table.into())],
                    }),
                    Object::Table {
                        family,
                        name: table.into(),
                    },
                ),
            };
            b.add(family, msg, 0, object);
        }
        b.end();
        let failures = conn.transact(&b)?;
        match errors::kernel(&b, &failures) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
