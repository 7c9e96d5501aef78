//! The Go agent's iptables objects (either variant) and ipsets: recognised
//! in `iptables-save` output (pure: [`classify`]), removed with one
//! `iptables-restore --noflush` per variant (each table commits atomically)
//! and `ipset destroy`.

use crate::names::{self, Refs};
use capabilities::IptablesVariant;
use packetfilter_iptables::tool;
use ruleset::IpVersion;

/// What one table of one `iptables-save` holds of the Go agent's, and the
/// restore lines that remove it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableCleanup {
    /// `nat`, `mangle`, `filter`.
    pub table: String,
    /// `-D` / `-F` / `-X` lines for `iptables-restore --noflush`, in order:
    /// rules and jumps first, then flushes, then chain deletions.
    pub lines: Vec<String>,
    /// The Go agent's chains, rules and jumps found, one line each.
    pub found: Vec<String>,
    /// Other components' rules in the Go agent's chains, left alone.
    pub kept: Vec<String>,
}

/// Splits a rule's arguments like a shell would (double quotes group).
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for ch in s.chars() {
        match ch {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

struct SavedRule {
    chain: String,
    spec: String,
    target: Option<String>,
    sets: Vec<String>,
    mark: bool,
}

fn parse_rule(chain: &str, spec: &str) -> SavedRule {
    let w = words(spec);
    let after = |flag: &str| {
        w.iter()
            .position(|x| x == flag)
            .and_then(|i| w.get(i + 1).cloned())
    };
    let target = after("-j").or_else(|| after("-g"));
    let sets = w
        .windows(2)
        .filter(|p| p[0] == "--match-set")
        .map(|p| p[1].clone())
        .collect();
    let mark = w.windows(2).any(|p| p[0] == "-m" && p[1] == "mark")
        || matches!(target.as_deref(), Some("MARK") | Some("CONNMARK"));
    SavedRule {
        chain: chain.into(),
        spec: spec.into(),
        target,
        sets,
        mark,
    }
}

/// Recognises the Go agent's chains, rules and jumps in `iptables-save`
/// output. A chain named like one of its chains loses only the Go agent's
/// rules when another component's rules are in it (Globalnet's jump in
/// `SUBMARINER-POSTROUTING`); then the chain and its jump stay. Otherwise
/// its jumps are deleted, then the chain is flushed and deleted.
pub fn classify(save: &str) -> Vec<TableCleanup> {
    let mut out = Vec::new();
    let mut table = String::new();
    let mut builtin: Vec<String> = Vec::new();
    let mut user: Vec<String> = Vec::new();
    let mut rules: Vec<SavedRule> = Vec::new();
    for line in save.lines() {
        if let Some(t) = line.strip_prefix('*') {
            table = t.trim().to_string();
            builtin.clear();
            user.clear();
            rules.clear();
        } else if let Some(decl) = line.strip_prefix(':') {
            let mut p = decl.split_whitespace();
            let name = p.next().unwrap_or_default().to_string();
            match p.next() {
                Some("-") => user.push(name),
                _ => builtin.push(name),
            }
        } else if let Some(rest) = line.strip_prefix("-A ") {
            let (chain, spec) = rest.split_once(' ').unwrap_or((rest, ""));
            rules.push(parse_rule(chain, spec));
        } else if line.trim() == "COMMIT" {
            let t = classify_table(&table, &builtin, &user, &rules);
            if !t.found.is_empty() || !t.kept.is_empty() {
                out.push(t);
            }
        }
    }
    out
}

fn classify_table(
    table: &str,
    builtin: &[String],
    user: &[String],
    rules: &[SavedRule],
) -> TableCleanup {
    let mut t = TableCleanup {
        table: table.into(),
        ..Default::default()
    };
    let ours: Vec<&String> = user.iter().filter(|c| names::is_chain(c)).collect();
    let mut flush = Vec::new();
    let mut jumps = Vec::new();
    let mut rule_lines = Vec::new();
    for c in &ours {
        let inside: Vec<&SavedRule> = rules.iter().filter(|r| &r.chain == *c).collect();
        let foreign: Vec<&&SavedRule> = inside
            .iter()
            .filter(|r| {
                let jumps: Vec<String> = r
                    .target
                    .iter()
                    .filter(|j| user.contains(j))
                    .cloned()
                    .collect();
                !names::is_route_agent_rule(Refs {
                    jumps: &jumps,
                    sets: &r.sets,
                    mark: r.mark,
                })
            })
            .collect();
        let into: Vec<&SavedRule> = rules
            .iter()
            .filter(|r| r.target.as_deref() == Some(c.as_str()) && &r.chain != *c)
            .collect();
        let foreign_into = into
            .iter()
            .any(|r| !builtin.contains(&r.chain) && !names::is_chain(&r.chain));
        for r in &foreign {
            t.kept
                .push(format!("{table} -A {c} {} (not the route agent's)", r.spec));
        }
        if foreign.is_empty() && !foreign_into {
            t.found
                .push(format!("{table} chain {c} ({} rules)", inside.len()));
            for r in into.iter().filter(|r| builtin.contains(&r.chain)) {
                t.found
                    .push(format!("{table} jump -A {} {}", r.chain, r.spec));
                jumps.push(format!("-D {} {}", r.chain, r.spec));
            }
            flush.push(c.to_string());
        } else {
            for r in inside
                .iter()
                .filter(|r| !foreign.iter().any(|f| std::ptr::eq(**f, **r)))
            {
                t.found.push(format!("{table} rule -A {c} {}", r.spec));
                rule_lines.push(format!("-D {c} {}", r.spec));
            }
            if !foreign.is_empty() {
                for r in &into {
                    t.kept.push(format!(
                        "{table} jump -A {} {} (the chain holds others' rules)",
                        r.chain, r.spec
                    ));
                }
            }
        }
    }
    t.lines.extend(rule_lines);
    t.lines.extend(jumps);
    t.lines.extend(flush.iter().map(|c| format!("-F {c}")));
    t.lines.extend(flush.iter().map(|c| format!("-X {c}")));
    t
}

/// The `iptables-restore --noflush` input for `tables`.
pub fn script(tables: &[TableCleanup]) -> String {
    let mut s = String::new();
    for t in tables.iter().filter(|t| !t.lines.is_empty()) {
        s.push_str(&format!("*{}\n", t.table));
        for l in &t.lines {
            s.push_str(l);
            s.push('\n');
        }
        s.push_str("COMMIT\n");
    }
    s
}

/// The name `iptables-legacy`, `ip6tables-nft`, ...
pub fn tool_name(variant: IptablesVariant, v: IpVersion) -> String {
    tool::binary(variant, v, "save")
        .trim_end_matches("-save")
        .to_string()
}

/// The Go agent's objects in one variant and IP version (`iptables-save`);
/// `None` when the variant's tool is not installed or cannot run.
pub fn discover(variant: IptablesVariant, v: IpVersion) -> Option<Vec<TableCleanup>> {
    let bin = tool::binary(variant, v, "save");
    probe::iptables::which(&bin)?;
    match tool::run(&bin, &[], "") {
        Ok(save) => Some(classify(&save)),
        Err((what, stderr)) => {
            tracing::debug!(tool = %bin, %what, %stderr, "cannot read this iptables variant");
            None
        }
    }
}

/// Removes what `discover` found, in one `iptables-restore -w --noflush`.
pub fn remove(
    variant: IptablesVariant,
    v: IpVersion,
    tables: &[TableCleanup],
) -> Result<(), String> {
    let text = script(tables);
    if text.is_empty() {
        return Ok(());
    }
    let bin = tool::binary(variant, v, "restore");
    tool::run(&bin, &["-w", "--noflush"], &text)
        .map(|_| ())
        .map_err(|(what, stderr)| format!("{what}: {stderr}; restore input was:\n{text}"))
}

/// The Go agent's ipsets present (`ipset list -n`); empty without ipset.
pub fn discover_ipsets() -> Vec<String> {
    let Some(bin) = probe::iptables::which("ipset") else {
        return vec![];
    };
    match tool::run(&bin, &["list", "-n"], "") {
        Ok(out) => out
            .lines()
            .map(str::trim)
            .filter(|n| names::is_set(n))
            .map(String::from)
            .collect(),
        Err(_) => vec![],
    }
}

/// `ipset destroy NAME`; a set still referenced by a rule stays, and the
/// error says so.
pub fn destroy_ipset(name: &str) -> Result<(), String> {
    let bin = probe::iptables::which("ipset").ok_or("ipset is not installed")?;
    tool::run(&bin, &["destroy", name], "")
        .map(|_| ())
        .map_err(|(what, stderr)| format!("ipset {name}: {what}: {stderr}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAVE: &str = "*nat
:PREROUTING ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:SUBMARINER-POSTROUTING - [0:0]
:SUBMARINER-GN-EGRESS - [0:0]
:KUBE-POSTROUTING - [0:0]
-A POSTROUTING -j SUBMARINER-POSTROUTING
-A POSTROUTING -j KUBE-POSTROUTING
-A SUBMARINER-POSTROUTING -j SUBMARINER-GN-EGRESS
-A SUBMARINER-POSTROUTING -s 240.0.0.0/8 -o vx-submariner -j SNAT --to-source 10.244.1.1
-A SUBMARINER-POSTROUTING -s 10.244.0.0/16 -d 10.245.0.0/16 -j ACCEPT
-A SUBMARINER-GN-EGRESS -m mark --mark 0xc0000/0xc0000 -j ACCEPT
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:SUBMARINER-INPUT - [0:0]
:SUBMARINER-FORWARD - [0:0]
-A INPUT -p udp -j SUBMARINER-INPUT
-A FORWARD -j SUBMARINER-FORWARD
-A SUBMARINER-INPUT -p udp -m udp --dport 4800 -j ACCEPT
-A SUBMARINER-FORWARD -o vx-submariner -j ACCEPT
COMMIT
*mangle
:POSTROUTING ACCEPT [0:0]
:SUBMARINER-POSTROUTING - [0:0]
-A POSTROUTING -j SUBMARINER-POSTROUTING
-A SUBMARINER-POSTROUTING -p tcp -m set --match-set SUBMARINER-LOCALCIDRS src -m set --match-set SUBMARINER-REMOTECIDRS dst -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
COMMIT
";

    #[test]
    fn shared_chain_keeps_globalnet_and_its_jump() {
        let t = classify(SAVE);
        let nat = t.iter().find(|t| t.table == "nat").unwrap();
        assert_eq!(
            nat.lines,
            [
                "-D SUBMARINER-POSTROUTING -s 240.0.0.0/8 -o vx-submariner -j SNAT --to-source 10.244.1.1",
                "-D SUBMARINER-POSTROUTING -s 10.244.0.0/16 -d 10.245.0.0/16 -j ACCEPT",
            ]
        );
        assert!(nat.kept.iter().any(|k| k.contains("SUBMARINER-GN-EGRESS")));
        assert!(!nat
            .lines
            .iter()
            .any(|l| l.contains("GN") || l.contains("KUBE")));
    }

    #[test]
    fn own_chains_lose_jumps_then_go() {
        let t = classify(SAVE);
        let filter = t.iter().find(|t| t.table == "filter").unwrap();
        assert_eq!(
            filter.lines,
            [
                "-D INPUT -p udp -j SUBMARINER-INPUT",
                "-D FORWARD -j SUBMARINER-FORWARD",
                "-F SUBMARINER-INPUT",
                "-F SUBMARINER-FORWARD",
                "-X SUBMARINER-INPUT",
                "-X SUBMARINER-FORWARD",
            ]
        );
        let mangle = t.iter().find(|t| t.table == "mangle").unwrap();
        assert_eq!(mangle.lines.len(), 3);
        assert!(script(&t).starts_with("*nat\n-D SUBMARINER-POSTROUTING"));
    }

    #[test]
    fn nothing_of_the_go_agent_means_nothing_to_do() {
        let save =
            "*nat\n:POSTROUTING ACCEPT [0:0]\n:KUBE-X - [0:0]\n-A POSTROUTING -j KUBE-X\nCOMMIT\n";
        assert!(classify(save).is_empty());
        assert_eq!(script(&classify(save)), "");
    }

    #[test]
    fn quoted_comments_stay_one_word() {
        assert_eq!(
            words(r#"-m comment --comment "a b" -j ACCEPT"#),
            ["-m", "comment", "--comment", "a b", "-j", "ACCEPT"]
        );
    }
}
