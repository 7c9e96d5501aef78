//! nft text for the model: what `nft -f` accepts for the same ruleset, and
//! what `routeagent plan` and the logs show.
//!
//! `RuleSet`'s `Display` prints the table definitions. [`replace_script`]
//! wraps them so that `nft -f` swaps the agent's tables atomically, as the
//! netlink backend does.

use crate::hook::{Family, IpVersion};
use crate::model::{
    Action, AddrField, AddrTarget, Chain, IfaceDir, Match, Rule, RuleSet, Set, Table,
};
use std::fmt::{self, Display, Formatter, Write as _};

impl Display for RuleSet {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for t in &self.tables {
            write!(f, "{t}")?;
        }
        Ok(())
    }
}

/// The `nft -f` script that replaces the agent's tables atomically:
/// `table X` (creates it if missing), `delete table X`, then the definition.
pub fn replace_script(rs: &RuleSet) -> String {
    let mut s = String::new();
    for t in &rs.tables {
        let _ = writeln!(s, "table {} {}", t.family, t.name);
        let _ = writeln!(s, "delete table {} {}", t.family, t.name);
    }
    s.push_str(&rs.to_string());
    s
}

impl Display for Table {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        writeln!(f, "table {} {} {{", self.family, self.name)?;
        let mut first = true;
        for s in &self.sets {
            if !first {
                writeln!(f)?;
            }
            first = false;
            write!(f, "{s}")?;
        }
        for c in &self.chains {
            if !first {
                writeln!(f)?;
            }
            first = false;
            write!(
                f,
                "{}",
                ChainText {
                    family: self.family,
                    chain: c
                }
            )?;
        }
        writeln!(f, "}}")
    }
}

impl Display for Set {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        writeln!(f, "\tset {} {{", self.name)?;
        writeln!(f, "\t\ttype {}", self.key.key_type())?;
        writeln!(f, "\t\tflags interval")?;
        if let Some(c) = &self.comment {
            writeln!(f, "\t\tcomment \"{c}\"")?;
        }
        if !self.elements.is_empty() {
            let list: Vec<String> = self.elements.iter().map(prefix_text).collect();
            writeln!(f, "\t\telements = {{ {} }}", list.join(", "))?;
        }
        writeln!(f, "\t}}")
    }
}

/// A chain in the context of its table's family.
pub struct ChainText<'a> {
    /// The table family (decides `snat ip to` vs `snat to`).
    pub family: Family,
    /// The chain.
    pub chain: &'a Chain,
}

impl Display for ChainText<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let c = self.chain;
        writeln!(f, "\tchain {} {{", c.name)?;
        if let Some(b) = &c.base {
            let prio = priority_text(b.priority, b.hook);
            writeln!(
                f,
                "\t\ttype {} hook {} priority {}; policy {};",
                b.ty,
                b.hook,
                prio,
                b.policy.as_str()
            )?;
        }
        for r in &c.rules {
            writeln!(
                f,
                "\t\t{}",
                RuleText {
                    family: self.family,
                    rule: r
                }
            )?;
        }
        writeln!(f, "\t}}")
    }
}

/// A rule in the context of its table's family: one line of nft text.
pub struct RuleText<'a> {
    /// The table family.
    pub family: Family,
    /// The rule.
    pub rule: &'a Rule,
}

impl Display for RuleText<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let r = self.rule;
        let mut parts: Vec<String> = r.matches.iter().map(|m| m.to_string()).collect();
        if r.counter {
            parts.push("counter".into());
        }
        if let Some(a) = &r.action {
            parts.push(
                ActionText {
                    family: self.family,
                    action: a,
                }
                .to_string(),
            );
        }
        if let Some(c) = &r.comment {
            parts.push(format!("comment \"{c}\""));
        }
        f.write_str(&parts.join(" "))
    }
}

/// A priority as nft lists it: `mangle`, `srcnat - 10`, or a number when no
/// standard priority valid on this hook is within 10.
pub fn priority_text(p: crate::Priority, hook: crate::Hook) -> String {
    if let Some(n) = p.name_for(hook) {
        return n.to_string();
    }
    for (_, base) in crate::Priority::NAMES {
        let off = p.0 - base;
        if off != 0 && off.abs() <= 10 {
            if let Some(n) = crate::Priority(base).name_for(hook) {
                return format!("{n} {} {}", if off < 0 { '-' } else { '+' }, off.abs());
            }
        }
    }
    p.0.to_string()
}

fn prefix_text(p: &ipnet::IpNet) -> String {
    if p.prefix_len() == p.max_prefix_len() {
        p.addr().to_string()
    } else {
        p.to_string()
    }
}

fn op(negate: bool) -> &'static str {
    if negate {
        "!= "
    } else {
        ""
    }
}

impl Display for Match {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Match::Addr {
                version,
                field,
                negate,
                target,
            } => {
                let field = match field {
                    AddrField::Saddr => "saddr",
                    AddrField::Daddr => "daddr",
                };
                let target = match target {
                    AddrTarget::Prefix(p) => prefix_text(p),
                    AddrTarget::Set(s) => format!("@{s}"),
                };
                write!(f, "{} {field} {}{target}", version.keyword(), op(*negate))
            }
            Match::Iface { dir, negate, name } => {
                let kw = match dir {
                    IfaceDir::In => "iifname",
                    IfaceDir::Out => "oifname",
                };
                write!(f, "{kw} {}\"{name}\"", op(*negate))
            }
            Match::L4Proto(p) => write!(f, "meta l4proto {}", p.as_str()),
            Match::Dport { proto, port } => write!(f, "{} dport {port}", proto.as_str()),
            Match::Mark {
                mask,
                value,
                negate,
            } if *mask == u32::MAX => write!(f, "meta mark {}{value:#010x}", op(*negate)),
            Match::Mark {
                mask,
                value,
                negate,
            } => {
                write!(
                    f,
                    "meta mark & {mask:#010x} {} {value:#010x}",
                    if *negate { "!=" } else { "==" }
                )
            }
            Match::TcpSyn => f.write_str("tcp flags syn / syn,rst"),
        }
    }
}

/// An action in the context of its table's family.
pub struct ActionText<'a> {
    /// The table family (`inet` needs `snat ip to`).
    pub family: Family,
    /// The action.
    pub action: &'a Action,
}

impl Display for ActionText<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let nat_family = |v: IpVersion| {
            if self.family == Family::Inet {
                format!(" {}", v.keyword())
            } else {
                String::new()
            }
        };
        match self.action {
            Action::Accept => f.write_str("accept"),
            Action::Drop => f.write_str("drop"),
            Action::Return => f.write_str("return"),
            Action::Jump(c) => write!(f, "jump {c}"),
            Action::Snat(a) => write!(f, "snat{} to {a}", nat_family(IpVersion::of(a))),
            Action::SnatToSource(v) => write!(f, "snat{} to {} saddr", nat_family(*v), v.keyword()),
            Action::Masquerade => f.write_str("masquerade"),
            // nft folds the bits the OR sets into the AND mask; print it the same way.
            Action::SetMark { mask, value } => write!(
                f,
                "meta mark set meta mark & {:#010x} | {value:#010x}",
                !mask | value
            ),
            Action::ClampMssToPmtu => f.write_str("tcp option maxseg size set rt mtu"),
            Action::ClampMss(v) => write!(f, "tcp option maxseg size set {v}"),
        }
    }
}
