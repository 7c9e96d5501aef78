//! The model, translated: a [`RuleSet`] becomes, per IP version, the chains
//! and rules of each iptables table plus the jumps from the built-in chains,
//! and the ipsets to create. Pure; [`crate::script`] turns it into a restore
//! file against what the kernel holds.

use crate::names::{self, XtTable};
use ipnet::IpNet;
use packetfilter::{Error, Object, Result};
use ruleset::render::RuleText;
use ruleset::{
    Action, AddrField, AddrTarget, Family, IfaceDir, IpVersion, Match, Rule, RuleSet, Table,
};
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
                        for (i, r) in c.rules.iter().enumerate() {
                            rules.extend(rule_lines(t, &c.name, i, r, v, ipset, backend)?);
                        }
                        tp.chains.push((xt_name.clone(), rules));
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

fn rule_obj(t: &Table, chain: &str, index: usize, r: &Rule) -> Object {
    Object::Rule {
        family: t.family,
        table: t.name.clone(),
        chain: chain.to_string(),
        index,
        text: RuleText {
            family: t.family,
            rule: r,
        }
        .to_string(),
    }
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

fn unsupported(backend: &str, object: Object, why: String) -> Error {
    Error::Unsupported {
        backend: backend.to_string(),
        object,
        why,
    }
}

/// The IP version a rule is restricted to, if any.
fn rule_version(r: &Rule) -> Option<IpVersion> {
    r.matches
        .iter()
        .find_map(Match::ip_version)
        .or(match &r.action {
            Some(Action::Snat(a)) => Some(IpVersion::of(a)),
            Some(Action::SnatToSource(v)) => Some(*v),
            _ => None,
        })
}

/// An address match after set resolution.
#[derive(Clone)]
enum Addr {
    Prefix(IpNet),
    Ipset(String),
}

/// The iptables lines for one model rule in IP version `v` (none when the
/// rule is for the other version, or matches an empty expanded set).
fn rule_lines(
    t: &Table,
    chain: &str,
    index: usize,
    r: &Rule,
    v: IpVersion,
    ipset: bool,
    backend: &str,
) -> Result<Vec<XtRule>> {
    if rule_version(r).is_some_and(|x| x != v) {
        return Ok(vec![]);
    }
    let object = rule_obj(t, chain, index, r);
    // Each address match becomes a list of alternatives; the rule is the
    // cartesian product (one alternative unless a set is expanded).
    let mut variants: Vec<Vec<(AddrField, bool, Addr)>> = vec![vec![]];
    let mut others = Vec::new();
    let self_snat = matches!(r.action, Some(Action::SnatToSource(_)));
    for m in &r.matches {
        let Match::Addr {
            field,
            negate,
            target,
            ..
        } = m
        else {
            others.push(m);
            continue;
        };
        let alts: Vec<Addr> = match target {
            AddrTarget::Prefix(p) => vec![Addr::Prefix(*p)],
            AddrTarget::Set(s) if ipset && !(self_snat && *field == AddrField::Saddr) => {
                let key = t.set(s).map(|x| x.key).unwrap_or(v);
                vec![Addr::Ipset(names::ipset(s, key))]
            }
            AddrTarget::Set(s) => {
                if *negate {
                    return Err(unsupported(backend, object, format!("`!= @{s}` needs ipset on the iptables backend (install the ipset package); a negated set cannot be expanded into one rule per prefix")));
                }
                let set = t.set(s).ok_or_else(|| {
                    unsupported(backend, object.clone(), format!("set @{s} does not exist"))
                })?;
                set.elements.iter().map(|p| Addr::Prefix(*p)).collect()
            }
        };
        variants = variants
            .into_iter()
            .flat_map(|pre| {
                alts.iter().map(move |a| {
                    let mut x = pre.clone();
                    x.push((*field, *negate, a.clone()));
                    x
                })
            })
            .collect();
    }
    let mut out = Vec::new();
    for addrs in variants {
        let mut a = String::new();
        for (field, negate, addr) in &addrs {
            if let Addr::Prefix(p) = addr {
                let flag = if *field == AddrField::Saddr {
                    "-s"
                } else {
                    "-d"
                };
                push(
                    &mut a,
                    &format!("{}{flag} {p}", if *negate { "! " } else { "" }),
                );
            }
        }
        for m in &others {
            if let Match::Iface { dir, negate, name } = m {
                let flag = if *dir == IfaceDir::In { "-i" } else { "-o" };
                push(
                    &mut a,
                    &format!("{}{flag} {name}", if *negate { "! " } else { "" }),
                );
            }
        }
        let proto = others.iter().find_map(|m| match m {
            Match::L4Proto(p) | Match::Dport { proto: p, .. } => Some(*p),
            Match::TcpSyn => Some(ruleset::L4Proto::Tcp),
            _ => None,
        });
        if let Some(p) = proto {
            push(&mut a, &format!("-p {}", p.as_str()));
            let mut l4 = String::new();
            for m in &others {
                match m {
                    Match::Dport { port, .. } => push(&mut l4, &format!("--dport {port}")),
                    Match::TcpSyn => push(&mut l4, "--tcp-flags SYN,RST SYN"),
                    _ => {}
                }
            }
            if !l4.is_empty() {
                push(&mut a, &format!("-m {} {l4}", p.as_str()));
            }
        }
        for m in &others {
            if let Match::Mark {
                mask,
                value,
                negate,
            } = m
            {
                push(
                    &mut a,
                    &format!(
                        "-m mark {}--mark {value:#x}/{mask:#x}",
                        if *negate { "! " } else { "" }
                    ),
                );
            }
        }
        for (field, negate, addr) in &addrs {
            if let Addr::Ipset(name) = addr {
                let dir = if *field == AddrField::Saddr {
                    "src"
                } else {
                    "dst"
                };
                push(
                    &mut a,
                    &format!(
                        "-m set {}--match-set {name} {dir}",
                        if *negate { "! " } else { "" }
                    ),
                );
            }
        }
        if let Some(c) = &r.comment {
            push(&mut a, &format!("-m comment --comment \"{c}\""));
        }
        if let Some(act) = &r.action {
            let target = match act {
                Action::Accept => "-j ACCEPT".to_string(),
                Action::Drop => "-j DROP".to_string(),
                Action::Return => "-j RETURN".to_string(),
                Action::Jump(c) => format!("-j {}", names::chain(c)),
                Action::Snat(ip) => format!("-j SNAT --to-source {ip}"),
                Action::Masquerade => "-j MASQUERADE".to_string(),
                Action::SetMark { mask, value } => {
                    format!("-j MARK --set-xmark {value:#x}/{mask:#x}")
                }
                Action::ClampMssToPmtu => "-j TCPMSS --clamp-mss-to-pmtu".to_string(),
                Action::ClampMss(n) => format!("-j TCPMSS --set-mss {n}"),
                Action::SnatToSource(_) => {
                    // iptables cannot SNAT to the packet's own source; NETMAP
                    // onto the same prefix is the identity mapping and, like
                    // nft's `snat to ip saddr`, binds NAT for the connection
                    // so later MASQUERADE rules of other chains do not apply.
                    let src = addrs.iter().find_map(|(f, neg, ad)| match (f, neg, ad) {
                        (AddrField::Saddr, false, Addr::Prefix(p)) => Some(*p),
                        _ => None,
                    });
                    match src {
                        Some(p) => format!("-j NETMAP --to {p}"),
                        None => return Err(unsupported(backend, object, "`snat to ip saddr` becomes `-j NETMAP --to <prefix>` on iptables, which needs the rule to match a source prefix or set (`ip saddr 10.0.0.0/16` or `ip saddr @set`)".into())),
                    }
                }
            };
            push(&mut a, &target);
        }
        out.push(XtRule {
            args: a,
            object: object.clone(),
        });
    }
    Ok(out)
}

fn push(s: &mut String, part: &str) {
    if !s.is_empty() {
        s.push(' ');
    }
    s.push_str(part);
}
