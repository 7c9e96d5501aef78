//! One model rule as iptables rule arguments: matches, sets (ipset or
//! expanded), and the target.
//!
//! Without ipset a set match is expanded into one rule per prefix. A
//! negated set match (`ip daddr != @remote`) cannot be expanded that way;
//! it becomes a helper chain `RA-<CHAIN>-N<i>` that `RETURN`s for each
//! prefix and otherwise applies the rule's action:
//! `-A RA-X <other matches> -j RA-X-N3`, `-A RA-X-N3 -d P -j RETURN` per
//! prefix, `-A RA-X-N3 <target>`.

use crate::names;
use crate::render::XtRule;
use ipnet::IpNet;
use packetfilter::{Error, Object, Result};
use ruleset::render::RuleText;
use ruleset::{Action, AddrField, AddrTarget, IfaceDir, IpVersion, L4Proto, Match, Rule, Table};

/// The lines of one model rule, and helper chains it needs.
#[derive(Debug, Default)]
pub(crate) struct RuleOut {
    /// Lines for the rule's own chain.
    pub lines: Vec<XtRule>,
    /// Helper chains (name, lines), for negated sets without ipset.
    pub helpers: Vec<(String, Vec<XtRule>)>,
}

pub(crate) fn rule_obj(t: &Table, chain: &str, index: usize, r: &Rule) -> Object {
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

pub(crate) fn unsupported(backend: &str, object: Object, why: String) -> Error {
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

type AddrMatch = (AddrField, bool, Addr);

/// Everything of a rule but its address matches and target.
struct Rest<'a> {
    others: Vec<&'a Match>,
}

fn flag(field: AddrField) -> &'static str {
    if field == AddrField::Saddr {
        "-s"
    } else {
        "-d"
    }
}

fn not(negate: bool) -> &'static str {
    if negate {
        "! "
    } else {
        ""
    }
}

impl Rest<'_> {
    /// `-s/-d`, `-i/-o`, `-p` with its `-m tcp/udp` options, `-m mark`,
    /// `-m set`, in iptables-save's order.
    fn args(&self, addrs: &[AddrMatch]) -> String {
        let mut a = String::new();
        for (field, negate, addr) in addrs {
            if let Addr::Prefix(p) = addr {
                push(&mut a, &format!("{}{} {p}", not(*negate), flag(*field)));
            }
        }
        for m in &self.others {
            if let Match::Iface { dir, negate, name } = m {
                let f = if *dir == IfaceDir::In { "-i" } else { "-o" };
                push(&mut a, &format!("{}{f} {name}", not(*negate)));
            }
        }
        let proto = self.others.iter().find_map(|m| match m {
            Match::L4Proto(p) | Match::Dport { proto: p, .. } => Some(*p),
            Match::TcpSyn => Some(L4Proto::Tcp),
            _ => None,
        });
        if let Some(p) = proto {
            push(&mut a, &format!("-p {}", p.as_str()));
            let mut l4 = String::new();
            for m in &self.others {
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
        for m in &self.others {
            if let Match::Mark {
                mask,
                value,
                negate,
            } = m
            {
                push(
                    &mut a,
                    &format!("-m mark {}--mark {value:#x}/{mask:#x}", not(*negate)),
                );
            }
        }
        for (field, negate, addr) in addrs {
            if let Addr::Ipset(name) = addr {
                let dir = if *field == AddrField::Saddr {
                    "src"
                } else {
                    "dst"
                };
                push(
                    &mut a,
                    &format!("-m set {}--match-set {name} {dir}", not(*negate)),
                );
            }
        }
        a
    }
}

/// `-j TARGET ...` for an action; `None` for self-SNAT without a source
/// prefix (not expressible).
fn target(act: &Action, addrs: &[AddrMatch]) -> Option<String> {
    Some(match act {
        Action::Accept => "-j ACCEPT".to_string(),
        Action::Drop => "-j DROP".to_string(),
        Action::Return => "-j RETURN".to_string(),
        Action::Jump(c) => format!("-j {}", names::chain(c)),
        Action::Snat(ip) => format!("-j SNAT --to-source {ip}"),
        Action::Masquerade => "-j MASQUERADE".to_string(),
        Action::SetMark { mask, value } => format!("-j MARK --set-xmark {value:#x}/{mask:#x}"),
        Action::ClampMssToPmtu => "-j TCPMSS --clamp-mss-to-pmtu".to_string(),
        Action::ClampMss(n) => format!("-j TCPMSS --set-mss {n}"),
        Action::SnatToSource(_) => {
            // iptables cannot SNAT to the packet's own source; NETMAP onto
            // the same prefix is the identity mapping and, like nft's
            // `snat to ip saddr`, binds NAT for the connection so later
            // MASQUERADE rules of other chains do not apply.
            let src = addrs.iter().find_map(|(f, neg, ad)| match (f, neg, ad) {
                (AddrField::Saddr, false, Addr::Prefix(p)) => Some(*p),
                _ => None,
            })?;
            format!("-j NETMAP --to {src}")
        }
    })
}

/// The iptables lines for one model rule in IP version `v` (none when the
/// rule is for the other version, or matches an empty expanded set).
pub(crate) fn rule_lines(
    t: &Table,
    chain: &str,
    index: usize,
    r: &Rule,
    v: IpVersion,
    ipset: bool,
    backend: &str,
) -> Result<RuleOut> {
    if rule_version(r).is_some_and(|x| x != v) {
        return Ok(RuleOut::default());
    }
    let object = rule_obj(t, chain, index, r);
    let self_snat = matches!(r.action, Some(Action::SnatToSource(_)));
    // Each address match becomes a list of alternatives; the rule is the
    // cartesian product (one alternative unless a set is expanded).
    let mut variants: Vec<Vec<AddrMatch>> = vec![vec![]];
    let mut negated: Option<(AddrField, Vec<IpNet>)> = None;
    let mut others = Vec::new();
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
                let set = t.set(s).ok_or_else(|| {
                    unsupported(backend, object.clone(), format!("set @{s} does not exist"))
                })?;
                if *negate {
                    if negated.is_some()
                        || matches!(
                            r.action,
                            Some(Action::Return) | Some(Action::SnatToSource(_))
                        )
                    {
                        return Err(unsupported(backend, object, format!("`!= @{s}` here needs ipset on the iptables backend (install the ipset package): without it a negated set becomes a helper chain, which cannot express `return`, self-SNAT or two negated sets")));
                    }
                    negated = Some((*field, set.elements.iter().copied().collect()));
                    continue;
                }
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
    let rest = Rest { others };
    let mut out = RuleOut::default();
    let finish = |addrs: &[AddrMatch]| -> Result<String> {
        let mut a = String::new();
        if let Some(c) = &r.comment {
            push(&mut a, &format!("-m comment --comment \"{c}\""));
        }
        if let Some(act) = &r.action {
            let tg = target(act, addrs).ok_or_else(|| unsupported(backend, object.clone(), "`snat to ip saddr` becomes `-j NETMAP --to <prefix>` on iptables, which needs the rule to match a source prefix or set (`ip saddr 10.0.0.0/16` or `ip saddr @set`)".into()))?;
            push(&mut a, &tg);
        }
        Ok(a)
    };
    let helper = negated
        .as_ref()
        .map(|_| names::chain(&format!("{chain}-n{index}")));
    for addrs in &variants {
        let mut a = rest.args(addrs);
        match &helper {
            Some(h) => push(&mut a, &format!("-j {h}")),
            None => push(&mut a, &finish(addrs)?),
        }
        out.lines.push(XtRule {
            args: a,
            object: object.clone(),
        });
    }
    if let (Some(h), Some((field, prefixes))) = (helper, negated) {
        let mut lines: Vec<XtRule> = prefixes
            .iter()
            .map(|p| XtRule {
                args: format!("{} {p} -j RETURN", flag(field)),
                object: object.clone(),
            })
            .collect();
        let last = finish(&[])?;
        if !last.is_empty() {
            lines.push(XtRule {
                args: last,
                object: object.clone(),
            });
        }
        out.helpers.push((h, lines));
    }
    Ok(out)
}

fn push(s: &mut String, part: &str) {
    if !part.is_empty() {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(part);
    }
}
