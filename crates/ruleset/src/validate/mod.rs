//! Validation before any I/O: everything the kernel (or `nft`) would refuse,
//! refused here first, with an error that names the object and says what
//! would be valid.

mod error;
mod graph;

pub use error::{Location, ValidationError};
pub use graph::{unreachable_chains, MAX_JUMP_DEPTH};

use crate::hook::{chain_allowed, ChainType, Hook, IpVersion};
use crate::model::{Action, AddrTarget, Match, Rule, RuleSet, Table};
use graph::{find_cycle, reachable_contexts, too_deep};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// Longest comment nft accepts (bytes).
pub const MAX_COMMENT_LEN: usize = 128;
/// Longest table, chain or set name (NFT_*_MAXNAMELEN - 1).
pub const MAX_NAME_LEN: usize = 255;
/// Longest interface name (IFNAMSIZ - 1).
pub const MAX_IFNAME_LEN: usize = 15;

/// Checks `rs` against everything the kernel enforces regardless of version.
/// Returns the first violation.
pub fn validate(rs: &RuleSet) -> Result<(), ValidationError> {
    let mut seen = HashSet::new();
    for t in &rs.tables {
        let at = loc(t, None, None);
        check_name(&at, "table", &t.name)?;
        if !seen.insert((t.family, t.name.as_str())) {
            return Err(ValidationError::Duplicate {
                at,
                what: "table",
                name: t.name.clone(),
            });
        }
        validate_table(t)?;
    }
    Ok(())
}

fn loc(t: &Table, object: Option<(&'static str, &str)>, rule: Option<usize>) -> Location {
    Location {
        family: t.family,
        table: t.name.clone(),
        object: object.map(|(k, n)| (k, n.to_string())),
        rule,
    }
}

fn check_name(at: &Location, what: &'static str, name: &str) -> Result<(), ValidationError> {
    let bad = |why: String| {
        Err(ValidationError::BadName {
            at: at.clone(),
            what,
            name: name.into(),
            why,
        })
    };
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return bad(format!("must be 1 to {MAX_NAME_LEN} bytes"));
    }
    let first_ok = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
    if !first_ok
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
    {
        return bad(
            "use ASCII letters, digits, '_', '-' and '.', starting with a letter or '_'".into(),
        );
    }
    if crate::keywords::is_keyword(name) {
        return bad("it is an nft keyword, which nft text cannot use as a name; pick another (e.g. with a prefix: ra-NAME)".into());
    }
    Ok(())
}

fn check_comment(at: &Location, c: &Option<String>) -> Result<(), ValidationError> {
    let Some(c) = c else { return Ok(()) };
    let bad = |why| {
        Err(ValidationError::BadComment {
            at: at.clone(),
            len: c.len(),
            why,
        })
    };
    if c.len() > MAX_COMMENT_LEN {
        return bad("nft allows at most 128 bytes; shorten it");
    }
    if c.contains(['"', '\n', '\r', '\0']) {
        return bad("quotes, NUL and line breaks cannot be rendered; remove them");
    }
    Ok(())
}

fn validate_table(t: &Table) -> Result<(), ValidationError> {
    let mut names = HashSet::new();
    for s in &t.sets {
        let at = loc(t, Some(("set", &s.name)), None);
        check_name(&at, "set", &s.name)?;
        if !names.insert(s.name.as_str()) {
            return Err(ValidationError::Duplicate {
                at,
                what: "set",
                name: s.name.clone(),
            });
        }
        check_comment(&at, &s.comment)?;
        if !t.family.carries(s.key) {
            return Err(ValidationError::Family {
                at,
                what: format!(
                    "a {} set cannot be used in a {} table; use an {} table",
                    s.key.key_type(),
                    t.family,
                    if s.key == IpVersion::V4 {
                        "ip or inet"
                    } else {
                        "ip6 or inet"
                    }
                ),
            });
        }
        let mut prev: Option<&ipnet::IpNet> = None;
        for e in &s.elements {
            if IpVersion::of(&e.addr()) != s.key {
                return Err(ValidationError::BadElement {
                    at,
                    element: e.to_string(),
                    why: format!("not an {} prefix", s.key.key_type()),
                });
            }
            if e.addr() != e.network() {
                return Err(ValidationError::BadElement {
                    at,
                    element: e.to_string(),
                    why: format!("host bits set; write {}", e.trunc()),
                });
            }
            if let Some(p) = prev {
                if p.contains(e) {
                    return Err(ValidationError::BadElement {
                        at,
                        element: e.to_string(),
                        why: format!("overlaps {p} (the kernel refuses overlapping intervals with EEXIST); build the set with Set::aggregated"),
                    });
                }
            }
            prev = Some(e);
        }
    }
    let mut chains = HashSet::new();
    for c in &t.chains {
        let at = loc(t, Some(("chain", &c.name)), None);
        check_name(&at, "chain", &c.name)?;
        if !chains.insert(c.name.as_str()) {
            return Err(ValidationError::Duplicate {
                at,
                what: "chain",
                name: c.name.clone(),
            });
        }
        if let Some(b) = &c.base {
            if let Some(reason) = chain_allowed(b.ty, b.hook, b.priority) {
                return Err(ValidationError::ChainHook {
                    at,
                    ty: b.ty,
                    hook: b.hook,
                    priority: b.priority.0,
                    reason,
                });
            }
        }
    }
    // jumps: targets exist, are regular chains, no loops
    let mut edges: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for c in &t.chains {
        for (i, r) in c.rules.iter().enumerate() {
            if let Some(Action::Jump(target)) = &r.action {
                let at = loc(t, Some(("chain", &c.name)), Some(i));
                match t.chain(target) {
                    None => {
                        return Err(ValidationError::BadJump {
                            at,
                            target: target.clone(),
                            why: "no such chain in this table",
                        })
                    }
                    Some(tc) if tc.base.is_some() => {
                        return Err(ValidationError::BadJump {
                            at,
                            target: target.clone(),
                            why: "base chains cannot be jumped to; jump to a regular chain",
                        })
                    }
                    _ => edges
                        .entry(c.name.as_str())
                        .or_default()
                        .push(target.as_str()),
                }
            }
        }
    }
    if let Some(cycle) = find_cycle(&edges) {
        return Err(ValidationError::JumpLoop {
            family: t.family,
            table: t.name.clone(),
            cycle,
        });
    }
    if let Some(path) = too_deep(t, &edges) {
        return Err(ValidationError::BadJump {
            at: loc(t, Some(("chain", path.first().map(String::as_str).unwrap_or(""))), None),
            target: path.join(" -> "),
            why: "jumps nest deeper than the kernel's 16 levels (EMLINK at commit, which a dry run does not catch); flatten the chains",
        });
    }
    let contexts = reachable_contexts(t, &edges);
    for c in &t.chains {
        for (i, r) in c.rules.iter().enumerate() {
            let at = loc(t, Some(("chain", &c.name)), Some(i));
            validate_rule(t, r, &at, contexts.get(c.name.as_str()))?;
        }
    }
    Ok(())
}

fn validate_rule(
    t: &Table,
    r: &Rule,
    at: &Location,
    ctx: Option<&BTreeSet<(ChainType, Hook)>>,
) -> Result<(), ValidationError> {
    check_comment(at, &r.comment)?;
    let mut version: Option<IpVersion> = None;
    let mut tcp = false;
    let mut l4: Option<crate::model::L4Proto> = None;
    for m in &r.matches {
        match m {
            Match::Addr {
                version: v, target, ..
            } => {
                if !t.family.carries(*v) {
                    return Err(ValidationError::Family {
                        at: at.clone(),
                        what: format!(
                            "`{}` addresses never appear in a {} table",
                            v.keyword(),
                            t.family
                        ),
                    });
                }
                if version.is_some_and(|x| x != *v) {
                    return Err(ValidationError::Family { at: at.clone(), what: "the rule matches both IPv4 and IPv6 addresses, so no packet can match; split it".into() });
                }
                version = Some(*v);
                match target {
                    AddrTarget::Prefix(p) if IpVersion::of(&p.addr()) != *v => {
                        return Err(ValidationError::Family {
                            at: at.clone(),
                            what: format!("prefix {p} compared with `{}` addresses", v.keyword()),
                        });
                    }
                    AddrTarget::Set(s) => match t.set(s) {
                        None => {
                            return Err(ValidationError::UnknownSet {
                                at: at.clone(),
                                set: s.clone(),
                            })
                        }
                        Some(set) if set.key != *v => {
                            return Err(ValidationError::SetKey {
                                at: at.clone(),
                                set: s.clone(),
                                key: set.key.key_type(),
                                used: v.keyword(),
                                want: v.key_type(),
                            })
                        }
                        _ => {}
                    },
                    _ => {}
                }
            }
            Match::Iface { name, .. } => {
                if name.is_empty()
                    || name.len() > MAX_IFNAME_LEN
                    || name.contains(['"', '\0', '/', ' '])
                {
                    return Err(ValidationError::BadName {
                        at: at.clone(),
                        what: "interface",
                        name: name.clone(),
                        why: "interface names are 1 to 15 bytes without quotes, '/' or spaces"
                            .into(),
                    });
                }
            }
            Match::L4Proto(p) | Match::Dport { proto: p, .. } => {
                if l4.is_some_and(|x| x != *p) || (tcp && *p != crate::model::L4Proto::Tcp) {
                    return Err(ValidationError::BadRule { at: at.clone(), why: "the rule requires two different layer-4 protocols, so no packet can match; split it".into() });
                }
                l4 = Some(*p);
                tcp |= *p == crate::model::L4Proto::Tcp;
            }
            Match::TcpSyn => {
                if l4.is_some_and(|x| x != crate::model::L4Proto::Tcp) {
                    return Err(ValidationError::BadRule {
                        at: at.clone(),
                        why: "`tcp flags` on a non-TCP rule never matches".into(),
                    });
                }
                tcp = true;
                l4 = Some(crate::model::L4Proto::Tcp);
            }
            Match::Mark { mask, value, .. } => {
                if value & !mask != 0 {
                    return Err(ValidationError::BadRule { at: at.clone(), why: format!("mark value {value:#010x} has bits outside mask {mask:#010x}, so it never matches") });
                }
            }
        }
    }
    let Some(action) = &r.action else {
        return Ok(());
    };
    if let Action::SetMark { mask, value } = action {
        if value & !mask != 0 {
            return Err(ValidationError::BadRule {
                at: at.clone(),
                why: format!("mark value {value:#010x} has bits outside mask {mask:#010x}"),
            });
        }
    }
    if action.is_mss() && !r.matches.contains(&Match::TcpSyn) {
        return Err(ValidationError::BadRule {
            at: at.clone(),
            why:
                "MSS clamping must match `tcp flags syn / syn,rst` (only SYNs carry the MSS option)"
                    .into(),
        });
    }
    match action {
        Action::Snat(addr) if !t.family.carries(IpVersion::of(addr)) => {
            return Err(ValidationError::Family {
                at: at.clone(),
                what: format!("snat to {addr} in a {} table", t.family),
            });
        }
        Action::SnatToSource(v) if !t.family.carries(*v) || version.is_some_and(|x| x != *v) => {
            return Err(ValidationError::Family {
                at: at.clone(),
                what: format!(
                    "`snat to {} saddr` does not fit this table or rule",
                    v.keyword()
                ),
            });
        }
        _ => {}
    }
    for &(ty, hook) in ctx.into_iter().flatten() {
        if let Some(reason) = action_placement(action, ty, hook) {
            return Err(ValidationError::ActionPlacement {
                at: at.clone(),
                action: action_text(t, action),
                ty,
                hook,
                reason,
            });
        }
    }
    Ok(())
}

fn action_text(t: &Table, a: &Action) -> String {
    crate::render::ActionText {
        family: t.family,
        action: a,
    }
    .to_string()
}

/// Why `action` is refused under a base chain of `ty` on `hook`, if it is.
pub fn action_placement(action: &Action, ty: ChainType, hook: Hook) -> Option<&'static str> {
    match action {
        Action::Snat(_) | Action::SnatToSource(_) | Action::Masquerade if ty != ChainType::Nat => {
            Some("NAT statements need a `type nat` chain (snat and masquerade on postrouting)")
        }
        Action::Masquerade if hook != Hook::Postrouting => Some("masquerade runs only on postrouting"),
        Action::Snat(_) | Action::SnatToSource(_) if !matches!(hook, Hook::Postrouting | Hook::Input) => {
            Some("snat runs only on postrouting or input")
        }
        Action::ClampMssToPmtu if !matches!(hook, Hook::Forward | Hook::Output | Hook::Postrouting) => {
            Some("`rt mtu` is only known on forward, output and postrouting; use `type filter hook postrouting priority mangle`")
        }
        _ => None,
    }
}
