//! The Go agent's nftables tables (`ip submariner`, `submariner`,
//! `submariner-ipv4`/`-ipv6`): recognised from what the kernel holds (pure:
//! [`classify`]), then removed in one batch per table, over netlink.
//! A table that also holds other components' chains or sets (Globalnet's,
//! in the 2024 shared table) keeps them, and a shared chain keeps their
//! rules.

use crate::names::{self, Refs};
use packetfilter_nftables::inspect::{Removal, TableSummary};
use packetfilter_nftables::Nftables;
use ruleset::Family;

/// What one of the Go agent's tables holds, and how to remove its part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCleanup {
    /// Family.
    pub family: Family,
    /// Table name.
    pub table: String,
    /// What to delete, in order (one batch).
    pub removals: Vec<Removal>,
    /// The Go agent's objects found, one line each.
    pub found: Vec<String>,
    /// Other components' objects in the table, left alone.
    pub kept: Vec<String>,
}

/// Decides what of `t` is the Go agent's. Its chains go entirely (rules by
/// handle first, then the chain), except where another component's rule
/// is in them or jumps into them: then only its rules go. Its sets go when
/// no remaining rule uses them. The whole table goes when nothing else is
/// in it.
pub fn classify(t: &TableSummary) -> TableCleanup {
    let name = format!("{} {}", t.family.as_str(), t.name);
    let mut out = TableCleanup {
        family: t.family,
        table: t.name.clone(),
        removals: vec![],
        found: vec![],
        kept: vec![],
    };
    let foreign_rule = |r: &packetfilter_nftables::inspect::RuleSummary| {
        !names::is_route_agent_rule(Refs {
            jumps: &r.jumps,
            sets: &r.sets,
            mark: r.mark,
        })
    };
    let mut rules = Vec::new();
    let mut chains = Vec::new();
    let mut used_sets: Vec<&str> = Vec::new();
    for c in &t.chains {
        if !names::is_chain(&c.name) {
            out.kept
                .push(format!("{name} chain {} (not the route agent's)", c.name));
            used_sets.extend(
                c.rules
                    .iter()
                    .flat_map(|r| r.sets.iter().map(String::as_str)),
            );
            continue;
        }
        let jumped_into_by_others = t.chains.iter().any(|o| {
            !names::is_chain(&o.name) && o.rules.iter().any(|r| r.jumps.contains(&c.name))
        });
        let mut keep_chain = jumped_into_by_others;
        for r in &c.rules {
            if foreign_rule(r) {
                keep_chain = true;
                used_sets.extend(r.sets.iter().map(String::as_str));
                out.kept.push(format!(
                    "{name} chain {} rule handle {} ({}; not the route agent's)",
                    c.name,
                    r.handle,
                    describe(r)
                ));
            } else {
                rules.push(Removal::Rule {
                    chain: c.name.clone(),
                    handle: r.handle,
                });
            }
        }
        if !keep_chain {
            out.found
                .push(format!("{name} chain {} ({} rules)", c.name, c.rules.len()));
            chains.push(Removal::Chain(c.name.clone()));
        } else {
            for r in c.rules.iter().filter(|r| !foreign_rule(r)) {
                out.found.push(format!(
                    "{name} chain {} rule handle {} ({})",
                    c.name,
                    r.handle,
                    describe(r)
                ));
            }
        }
    }
    let mut sets = Vec::new();
    for s in &t.sets {
        if names::is_set(s) && !used_sets.contains(&s.as_str()) {
            out.found.push(format!("{name} set {s}"));
            sets.push(Removal::Set(s.clone()));
        } else {
            out.kept.push(format!(
                "{name} set {s} (not the route agent's, or used by others)"
            ));
        }
    }
    if out.kept.is_empty() {
        out.removals = vec![Removal::Table];
        out.found.push(format!("{name} table"));
    } else {
        out.removals.extend(rules);
        out.removals.extend(chains);
        out.removals.extend(sets);
    }
    out
}

fn describe(r: &packetfilter_nftables::inspect::RuleSummary) -> String {
    let mut s = r.exprs.join(" ");
    if let Some(v) = &r.verdict {
        s.push_str(&format!(" -> {v}"));
    }
    for j in &r.jumps {
        s.push_str(&format!(" {j}"));
    }
    s
}

/// The Go agent's nftables tables on this host, each classified; empty
/// when nftables cannot be read.
pub fn discover(nft: &Nftables) -> Vec<TableCleanup> {
    let mut out = Vec::new();
    for family in Family::ALL {
        let tables = match nft.list_tables(family) {
            Ok(t) => t,
            Err(e) => {
                tracing::debug!(error = %errchain::Chain(&e), family = family.as_str(), "cannot list nftables tables");
                continue;
            }
        };
        for name in tables
            .iter()
            .filter(|n| names::NFT_TABLES.contains(&n.as_str()))
        {
            match nft.inspect_table(family, name) {
                Ok(Some(t)) => out.push(classify(&t)),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %errchain::Chain(&e), table = %name, "cannot read the table")
                }
            }
        }
    }
    out
}

/// Deletes what `classify` chose, one batch per table.
pub fn remove(nft: &Nftables, t: &TableCleanup) -> Result<(), String> {
    nft.remove_objects(t.family, &t.table, &t.removals)
        .map_err(|e| errchain::Chain(&e).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use packetfilter_nftables::inspect::{ChainSummary, RuleSummary};

    fn rule(handle: u64, jumps: &[&str], sets: &[&str]) -> RuleSummary {
        RuleSummary {
            handle,
            jumps: jumps.iter().map(|s| s.to_string()).collect(),
            sets: sets.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    fn chain(name: &str, rules: Vec<RuleSummary>) -> ChainSummary {
        ChainSummary {
            name: name.into(),
            base: None,
            rules,
        }
    }

    #[test]
    fn a_table_of_only_the_route_agent_goes_whole() {
        let t = TableSummary {
            family: Family::Ip,
            name: "submariner-ipv4".into(),
            chains: vec![
                chain("SUBMARINER-INPUT", vec![rule(2, &[], &[])]),
                chain(
                    "SUBMARINER-POSTROUTING-MSS",
                    vec![rule(3, &[], &["SUBMARINER-LOCALCIDRS"])],
                ),
            ],
            sets: vec!["SUBMARINER-LOCALCIDRS".into()],
        };
        let c = classify(&t);
        assert_eq!(c.removals, [Removal::Table]);
        assert_eq!(c.found.len(), 4);
    }

    #[test]
    fn globalnet_keeps_its_chains_sets_and_jump() {
        let t = TableSummary {
            family: Family::Ip,
            name: "submariner".into(),
            chains: vec![
                chain(
                    "SUBMARINER-POSTROUTING",
                    vec![rule(5, &["SUBMARINER-GN-EGRESS"], &[]), rule(6, &[], &[])],
                ),
                chain("SUBMARINER-GN-EGRESS", vec![rule(7, &[], &["SM-GN-x"])]),
                chain("SUBMARINER-FORWARD", vec![rule(8, &[], &[])]),
            ],
            sets: vec!["SM-GN-x".into(), "SUBMARINER-REMOTECIDRS".into()],
        };
        let c = classify(&t);
        assert_eq!(
            c.removals,
            [
                Removal::Rule {
                    chain: "SUBMARINER-POSTROUTING".into(),
                    handle: 6
                },
                Removal::Rule {
                    chain: "SUBMARINER-FORWARD".into(),
                    handle: 8
                },
                Removal::Chain("SUBMARINER-FORWARD".into()),
                Removal::Set("SUBMARINER-REMOTECIDRS".into()),
            ]
        );
        assert!(c.kept.iter().any(|k| k.contains("SUBMARINER-GN-EGRESS")));
    }
}
