//! Reading `iptables-save` output (read-only): which chains exist and which
//! rules jump to ours. Used to keep jumps exactly once, to delete stale
//! chains, and by `verify`.

use crate::names::PREFIX;
use std::collections::BTreeMap;

/// One table of `iptables-save` output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SavedTable {
    /// Every chain declared (`:NAME POLICY [p:b]`), built-in and user.
    pub chains: Vec<String>,
    /// Every rule as `(chain, full line starting with -A)`.
    pub rules: Vec<(String, String)>,
}

impl SavedTable {
    /// Our chains (`RA-*`).
    pub fn our_chains(&self) -> impl Iterator<Item = &String> {
        self.chains.iter().filter(|c| c.starts_with(PREFIX))
    }
    /// Rules of chain `c`.
    pub fn rules_of<'a>(&'a self, c: &'a str) -> impl Iterator<Item = &'a String> + 'a {
        self.rules
            .iter()
            .filter(move |(ch, _)| ch == c)
            .map(|(_, l)| l)
    }
    /// Rules in chains that are not ours that jump to one of ours
    /// (`-A POSTROUTING -j RA-POSTROUTING`).
    pub fn jumps_to_ours(&self) -> impl Iterator<Item = &(String, String)> {
        self.rules.iter().filter(|(ch, l)| {
            !ch.starts_with(PREFIX) && jump_target(l).is_some_and(|t| t.starts_with(PREFIX))
        })
    }
}

/// The `-j TARGET` of a saved rule line.
pub fn jump_target(line: &str) -> Option<&str> {
    let mut it = line.split_whitespace();
    while let Some(w) = it.next() {
        if w == "-j" || w == "-g" {
            return it.next();
        }
    }
    None
}

/// Parses the whole output of `iptables-save` into table name -> contents.
pub fn parse(text: &str) -> BTreeMap<String, SavedTable> {
    let mut out: BTreeMap<String, SavedTable> = BTreeMap::new();
    let mut cur: Option<String> = None;
    for line in text.lines() {
        let line = line.trim_end();
        if let Some(t) = line.strip_prefix('*') {
            cur = Some(t.to_string());
            out.entry(t.to_string()).or_default();
        } else if let (Some(t), Some(rest)) = (&cur, line.strip_prefix(':')) {
            if let Some(name) = rest.split_whitespace().next() {
                out.entry(t.clone())
                    .or_default()
                    .chains
                    .push(name.to_string());
            }
        } else if let (Some(t), Some(rest)) = (&cur, line.strip_prefix("-A ")) {
            if let Some(chain) = rest.split_whitespace().next() {
                out.entry(t.clone())
                    .or_default()
                    .rules
                    .push((chain.to_string(), line.to_string()));
            }
        } else if line == "COMMIT" {
            cur = None;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_chains_rules_and_jumps() {
        let text = "# Generated\n*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:KUBE-POSTROUTING - [0:0]\n:RA-POST - [0:0]\n\
                    -A POSTROUTING -j RA-POST\n-A POSTROUTING -m comment --comment \"kube\" -j KUBE-POSTROUTING\n-A KUBE-POSTROUTING -j MASQUERADE\n-A RA-POST -s 10.0.0.0/8 -j ACCEPT\nCOMMIT\n";
        let t = parse(text);
        let nat = &t["nat"];
        assert_eq!(nat.chains.len(), 4);
        assert_eq!(nat.our_chains().collect::<Vec<_>>(), vec!["RA-POST"]);
        assert_eq!(nat.rules_of("RA-POST").count(), 1);
        let j: Vec<_> = nat.jumps_to_ours().collect();
        assert_eq!(
            j,
            vec![&(
                "POSTROUTING".to_string(),
                "-A POSTROUTING -j RA-POST".to_string()
            )]
        );
        assert_eq!(
            jump_target("-A X -p tcp -j TCPMSS --set-mss 1300"),
            Some("TCPMSS")
        );
    }
}
