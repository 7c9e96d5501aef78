//! The desired ruleset as a value: tables, chains, sets, rules.
//!
//! Everything is owned data with a canonical order (the order given), so two
//! equal values render to byte-identical text and encode to identical batches.

use crate::hook::{ChainType, Family, Hook, IpVersion, Policy, Priority};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

mod rule;
pub use rule::{Action, AddrField, AddrTarget, IfaceDir, L4Proto, Match, Rule};

/// Every table the agent owns. A backend replaces all of them in one atomic
/// transaction and never touches any other table.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RuleSet {
    /// The tables, in the order they are created.
    pub tables: Vec<Table>,
}

impl RuleSet {
    /// A ruleset of these tables.
    pub fn new(tables: Vec<Table>) -> Self {
        RuleSet { tables }
    }
    /// The table with this family and name.
    pub fn table(&self, family: Family, name: &str) -> Option<&Table> {
        self.tables
            .iter()
            .find(|t| t.family == family && t.name == name)
    }
    /// Mutable access to the table with this family and name.
    pub fn table_mut(&mut self, family: Family, name: &str) -> Option<&mut Table> {
        self.tables
            .iter_mut()
            .find(|t| t.family == family && t.name == name)
    }
    /// Total number of set elements (prefixes), for sizing batches.
    pub fn element_count(&self) -> usize {
        self.tables
            .iter()
            .flat_map(|t| &t.sets)
            .map(|s| s.elements.len())
            .sum()
    }
    /// Whether `other` differs from `self` only in set elements; if so, the
    /// per-set element deltas `(family, table, set, added, removed)`.
    pub fn set_delta(&self, other: &RuleSet) -> Option<Vec<SetDelta>> {
        if self.tables.len() != other.tables.len() {
            return None;
        }
        let mut out = Vec::new();
        for (a, b) in self.tables.iter().zip(&other.tables) {
            let strip = |t: &Table| {
                let mut t = t.clone();
                t.sets.iter_mut().for_each(|s| s.elements.clear());
                t
            };
            if strip(a) != strip(b) {
                return None;
            }
            for (sa, sb) in a.sets.iter().zip(&b.sets) {
                if sa.elements != sb.elements {
                    out.push(SetDelta {
                        family: a.family,
                        table: a.name.clone(),
                        set: sa.name.clone(),
                        add: sb.elements.difference(&sa.elements).copied().collect(),
                        remove: sa.elements.difference(&sb.elements).copied().collect(),
                    });
                }
            }
        }
        Some(out)
    }
}

/// A change to the elements of one set, everything else equal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetDelta {
    /// The table's family.
    pub family: Family,
    /// The table's name.
    pub table: String,
    /// The set's name.
    pub set: String,
    /// Prefixes to add.
    pub add: Vec<IpNet>,
    /// Prefixes to remove.
    pub remove: Vec<IpNet>,
}

/// One table: `table <family> <name> { ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// `ip`, `ip6` or `inet`.
    pub family: Family,
    /// The table name.
    pub name: String,
    /// Named sets, rendered before the chains.
    pub sets: Vec<Set>,
    /// Chains; base chains and regular chains in one list, in creation order.
    pub chains: Vec<Chain>,
}

impl Table {
    /// An empty table.
    pub fn new(family: Family, name: impl Into<String>) -> Self {
        Table {
            family,
            name: name.into(),
            sets: vec![],
            chains: vec![],
        }
    }
    /// The chain with this name.
    pub fn chain(&self, name: &str) -> Option<&Chain> {
        self.chains.iter().find(|c| c.name == name)
    }
    /// Mutable access to the chain with this name.
    pub fn chain_mut(&mut self, name: &str) -> Option<&mut Chain> {
        self.chains.iter_mut().find(|c| c.name == name)
    }
    /// The set with this name.
    pub fn set(&self, name: &str) -> Option<&Set> {
        self.sets.iter().find(|s| s.name == name)
    }
    /// Builder: adds a set.
    pub fn with_set(mut self, s: Set) -> Self {
        self.sets.push(s);
        self
    }
    /// Builder: adds a chain.
    pub fn with_chain(mut self, c: Chain) -> Self {
        self.chains.push(c);
        self
    }
}

/// The hook attachment of a base chain:
/// `type <ty> hook <hook> priority <prio>; policy <policy>;`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseChain {
    /// Chain type.
    pub ty: ChainType,
    /// Hook.
    pub hook: Hook,
    /// Priority.
    pub priority: Priority,
    /// Policy.
    pub policy: Policy,
}

/// A chain. Base chains have `base`; regular chains are reached by `jump`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chain {
    /// The chain name.
    pub name: String,
    /// Set for base chains.
    pub base: Option<BaseChain>,
    /// Rules, in order.
    pub rules: Vec<Rule>,
}

impl Chain {
    /// A base chain with policy accept.
    pub fn base(name: impl Into<String>, ty: ChainType, hook: Hook, priority: Priority) -> Self {
        Chain {
            name: name.into(),
            base: Some(BaseChain {
                ty,
                hook,
                priority,
                policy: Policy::Accept,
            }),
            rules: vec![],
        }
    }
    /// A regular chain.
    pub fn regular(name: impl Into<String>) -> Self {
        Chain {
            name: name.into(),
            base: None,
            rules: vec![],
        }
    }
    /// Builder: appends a rule.
    pub fn with_rule(mut self, r: Rule) -> Self {
        self.rules.push(r);
        self
    }
    /// Builder: appends rules.
    pub fn with_rules(mut self, r: impl IntoIterator<Item = Rule>) -> Self {
        self.rules.extend(r);
        self
    }
}

/// A named set of IPv4 or IPv6 prefixes, always `flags interval`.
/// Elements are kept sorted; they must not overlap (see [`Set::aggregated`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Set {
    /// The set name.
    pub name: String,
    /// `ipv4_addr` or `ipv6_addr`.
    pub key: IpVersion,
    /// The prefixes.
    pub elements: BTreeSet<IpNet>,
    /// Optional comment (<= 128 bytes).
    pub comment: Option<String>,
}

impl Set {
    /// An empty interval set.
    pub fn new(name: impl Into<String>, key: IpVersion) -> Self {
        Set {
            name: name.into(),
            key,
            elements: BTreeSet::new(),
            comment: None,
        }
    }
    /// An interval set holding `prefixes` merged so that none overlap
    /// (`10.0.0.0/8` swallows `10.1.0.0/16`; adjacent halves are joined),
    /// as `nft` with `auto-merge` would store them. Prefixes of the other IP
    /// version are ignored.
    pub fn aggregated(
        name: impl Into<String>,
        key: IpVersion,
        prefixes: impl IntoIterator<Item = IpNet>,
    ) -> Self {
        let list: Vec<IpNet> = prefixes
            .into_iter()
            .filter(|p| IpVersion::of(&p.addr()) == key)
            .map(|p| p.trunc())
            .collect();
        let mut s = Set::new(name, key);
        s.elements = IpNet::aggregate(&list).into_iter().collect();
        s
    }
}
