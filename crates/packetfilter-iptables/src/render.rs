//! The model, translated: a [`RuleSet`] becomes, per IP version, the chains
//! and rules of each iptables table plus the jumps from the built-in chains,
//! and the ipsets to create. Pure; [`crate::script`] turns it into a restore
//! file against what the kernel holds.

use crate::names::{self, XtTable};
use crate::rule::{rule_lines, unsupported};
use ipnet::IpNet;
use packetfilter::{Object, Result};
use ruleset::{Action, Family, IpVersion, RuleSet, Table};
use std::collections::{BTreeMap, BTreeSet};

/// One rule line (`-A RA-X ...` without the `-A RA-X`), and the model rule
/// it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XtRule {
    /// The arguments after `-A CHAIN`.
    pub args: String,
    /// The model rule, for error messages.
    pub object: Object,
}

/// A jump from a built-in chain to one of ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jump {
    /// Built-in chain (`POSTROUTING`).
    pub from: &'static str,
    /// Our chain (`RA-POSTROUTING`).
    pub to: String,
    /// The model base chain's priority: lower runs first.
    pub priority: i32,
}

/// What one iptables table should hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XtTablePlan {
    /// Our chains, in creation order, with their rules.
    pub chains: Vec<(String, Vec<XtRule>)>,
    /// Jumps from built-in chains.
    pub jumps: Vec<Jump>,
}

/// An ipset to create (`create NAME hash:net family inet`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpsetPlan {
    /// Set name (`RA-REMOTE`).
    pub name: String,
    /// Family.
    pub version: IpVersion,
    /// Members.
    pub elements: BTreeSet<IpNet>,
}

/// The whole translation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XtPlan {
    /// Per IP version, per table.
    pub tables: BTreeMap<IpVersion, BTreeMap<XtTable, XtTablePlan>>,
    /// ipsets (empty when sets are expanded).
    pub ipsets: Vec<IpsetPlan>,
}

impl XtPlan {
    /// Number of rule lines for `v` (for [`packetfilter::Applied`]).
    pub fn rule_count(&self) -> usize {
        self.tables
            .values()
            .flat_map(|t| t.values())
            .flat_map(|t| &t.chains)
            .map(|(_, r)| r.len())
            .sum()
    }
}

/// Translates `rs`. With `ipset`, model sets become ipsets matched with
/// `-m set`; without, every rule matching a set is expanded into one rule
/// per prefix. `backend` names the backend in errors.
pub fn translate(rs: &RuleSet, ipset: bool, backend: &str) -> Result<XtPlan> {
    let mut plan = XtPlan::default();
    let mut owner: BTreeMap<(IpVersion, XtTable, String), (Family, String)> = BTreeMap::new();
    for t in &rs.tables {
        if ipset {
            for s in &t.sets {
                let name = names::ipset(&s.name, s.key);
                if plan.ipsets.iter().any(|x| x.name == name) {
                    return Err(unsupported(
                        backend,
                        set_obj(t, &s.name),
                        format!("two sets map to ipset {name}; give them distinct names"),
                    ));
                }
                plan.ipsets.push(IpsetPlan {
                    name,
                    version: s.key,
                    elements: s.elements.clone(),
                });
            }
        }
        let reach = contexts(t);
        for c in &t.chains {
            let Some(ctx) = reach.get(c.name.as_str()) else {
                continue;
            };
            let xt_name = names::chain(&c.name);
            for &(table, builtin, prio) in ctx {
                for v in versions(t.family) {
                    let key = (v, table, xt_name.clone());
                    if let Some((f, tn)) = owner.get(&key) {
                        if (*f, tn.as_str()) != (t.family, t.name.as_str()) {
                            return Err(unsupported(backend, chain_obj(t, &c.name), format!("chain name {xt_name} is also used by table {f} {tn}; chain names must be unique across the agent's tables")));
                        }
                    }
                    owner.insert(key, (t.family, t.name.clone()));
                    let tp = plan.tables.entry(v).or_default().entry(table).or_default();
                    if !tp.chains.iter().any(|(n, _)| *n == xt_name) {
                        let mut rules = Vec::new();
                        let mut helpers = Vec::new();
                        for (i, r) in c.rules.iter().enumerate() {
                            let out = rule_lines(t, &c.name, i, r, v, ipset, backend)?;
                            rules.extend(out.lines);
                            helpers.extend(out.helpers);
                        }
                        tp.chains.push((xt_name.clone(), rules));
                        tp.chains.extend(helpers);
                    }
                    if c.base.is_some() {
                        if let Some(builtin) = builtin {
                            tp.jumps.push(Jump {
                                from: builtin,
                                to: xt_name.clone(),
                                priority: prio,
                            });
                        }
                    }
                }
            }
        }
    }
    Ok(plan)
}

fn versions(f: Family) -> Vec<IpVersion> {
    match f {
        Family::Ip => vec![IpVersion::V4],
        Family::Ip6 => vec![IpVersion::V6],
        Family::Inet => vec![IpVersion::V4, IpVersion::V6],
    }
}

type Ctx = BTreeSet<(XtTable, Option<&'static str>, i32)>;

/// For each chain, the iptables tables it runs in; base chains also carry
/// the built-in chain that jumps to them.
fn contexts(t: &Table) -> BTreeMap<&str, Ctx> {
    let mut out: BTreeMap<&str, Ctx> = BTreeMap::new();
    for c in t.chains.iter().filter(|c| c.base.is_some()) {
        let b = c.base.unwrap();
        let (table, builtin) = names::builtin(&b);
        out.entry(c.name.as_str())
            .or_default()
            .insert((table, Some(builtin), b.priority.0));
        let mut todo: Vec<&str> = vec![c.name.as_str()];
        let mut seen = BTreeSet::new();
        while let Some(n) = todo.pop() {
            if !seen.insert(n) {
                continue;
            }
            let Some(ch) = t.chain(n) else { continue };
            for r in &ch.rules {
                if let Some(Action::Jump(to)) = &r.action {
                    if let Some(tc) = t.chain(to) {
                        out.entry(tc.name.as_str())
                            .or_default()
                            .insert((table, None, 0));
                        todo.push(tc.name.as_str());
                    }
                }
            }
        }
    }
    out
}

fn chain_obj(t: &Table, chain: &str) -> Object {
    Object::Chain {
        family: t.family,
        table: t.name.clone(),
        name: chain.to_string(),
    }
}

fn set_obj(t: &Table, set: &str) -> Object {
    Object::Set {
        family: t.family,
        table: t.name.clone(),
        name: set.to_string(),
    }
}
