//! `routeagent bench filter`: the same ruleset (one table, three base
//! chains, an interval set of N CIDRs, rules that use it) programmed four
//! ways inside a throwaway namespace, medians over R runs.

use crate::{Error, Result};
use ipnet::IpNet;
use netns::NetNs;
use packetfilter::Backend;
use packetfilter_nftables::Nftables;
use ruleset::model::SetDelta;
use ruleset::{
    Action, Chain, ChainType, Family, Hook, IpVersion, Match, Priority, Rule, RuleSet, Set, Table,
};
use serde::Serialize;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const TABLE: &str = "routeagent-bench";
const SET: &str = "remote";
/// CIDRs measured one `nft add element` process each.
const PER_ENTRY_SAMPLE: usize = 200;

/// Medians in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FilterReport {
    /// CIDRs in the set.
    pub cidrs: usize,
    /// Runs per measurement (medians are over these).
    pub runs: usize,
    /// `Nftables::apply` of the whole ruleset (one netlink batch).
    pub routeagent_apply_ms: f64,
    /// One `nft -f` of the rendered replace script, including process start.
    pub nft_file_ms: f64,
    /// One `nft add element` process per CIDR, per CIDR (measured on 200).
    pub nft_per_entry_ms: f64,
    /// `iptables-nft-restore` (else `iptables-restore`) with one rule per CIDR.
    pub iptables_restore_ms: f64,
    /// `update_sets` adding one prefix to the N-prefix set.
    pub routeagent_add_one_ms: f64,
    /// `update_sets` deleting one prefix from the N-prefix set.
    pub routeagent_del_one_ms: f64,
}

impl fmt::Display for FilterReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.cidrs;
        writeln!(f, "packet filter: 1 table, 3 base chains, {n} CIDRs in an interval set; medians of {} runs", self.runs)?;
        let rows = [
            (
                "routeagent apply (one netlink batch)",
                self.routeagent_apply_ms,
            ),
            ("nft -f (one text transaction)", self.nft_file_ms),
            (
                &*format!("iptables-restore ({n} rules)"),
                self.iptables_restore_ms,
            ),
            (
                "nft add element, per CIDR (one process each)",
                self.nft_per_entry_ms,
            ),
            (
                &*format!("  ... extrapolated to {n} CIDRs"),
                self.nft_per_entry_ms * n as f64,
            ),
            ("routeagent add one element", self.routeagent_add_one_ms),
            ("routeagent delete one element", self.routeagent_del_one_ms),
        ];
        for (what, ms) in rows {
            writeln!(f, "  {what:<48} {ms:>10.2} ms")?;
        }
        Ok(())
    }
}

/// `n` distinct, non-adjacent /24s: 20.0.0.0/24, 20.0.2.0/24, ...
pub fn cidrs(n: usize, first_octet: u8) -> Vec<IpNet> {
    (0..n as u32)
        .map(|i| {
            let a = (u32::from(first_octet) << 24).wrapping_add((i * 2) << 8);
            IpNet::new(std::net::Ipv4Addr::from(a).into(), 24).unwrap_or_default()
        })
        .collect()
}

/// The benchmark ruleset: nat postrouting, filter forward and route output
/// chains and rules matching the N-CIDR set.
pub fn ruleset(n: usize) -> RuleSet {
    let v4 = IpVersion::V4;
    let set = Set::aggregated(SET, v4, cidrs(n, 20));
    let local: IpNet = "10.0.0.0/16".parse().unwrap_or_default();
    let t = Table::new(Family::Ip, TABLE)
        .with_set(set)
        .with_chain(
            Chain::base(
                "postrouting",
                ChainType::Nat,
                Hook::Postrouting,
                Priority::SRCNAT,
            )
            .with_rule(
                Rule::matching([Match::saddr(local), Match::daddr_in(v4, SET)])
                    .counted()
                    .then(Action::Return),
            )
            .with_rule(Rule::matching([Match::daddr_in(v4, SET)]).then(Action::Masquerade)),
        )
        .with_chain(
            Chain::base(
                "forward",
                ChainType::Filter,
                Hook::Forward,
                Priority::FILTER,
            )
            .with_rule(
                Rule::matching([Match::daddr_in(v4, SET), Match::TcpSyn])
                    .counted()
                    .then(Action::ClampMssToPmtu),
            ),
        )
        .with_chain(
            Chain::base("output", ChainType::Route, Hook::Output, Priority::MANGLE).with_rule(
                Rule::matching([Match::daddr_in(v4, SET)]).then(Action::SetMark {
                    mask: 0x000f_0000,
                    value: 0x0008_0000,
                }),
            ),
        );
    RuleSet::new(vec![t])
}

/// `iptables-restore` input: one RETURN rule per CIDR in a jumped chain.
fn iptables_script(cidrs: &[IpNet]) -> String {
    let mut s = String::with_capacity(cidrs.len() * 40 + 200);
    s.push_str("*filter\n:FORWARD ACCEPT [0:0]\n:RA-BENCH - [0:0]\n-A FORWARD -j RA-BENCH\n");
    for c in cidrs {
        s.push_str("-A RA-BENCH -d ");
        s.push_str(&c.to_string());
        s.push_str(" -j RETURN\n");
    }
    s.push_str("COMMIT\n");
    s
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// Runs `program args` (stdin from `input` if given) and fails on a
/// non-zero exit. Called on a thread inside the namespace, so the child
/// starts there without `ip netns exec`.
fn run_tool(program: &str, args: &[&str], input: Option<&Path>) -> Result<()> {
    let command = format!("{program} {}", args.join(" "));
    let mut c = Command::new(program);
    c.args(args).stdout(Stdio::null()).stderr(Stdio::piped());
    if let Some(p) = input {
        let f = std::fs::File::open(p).map_err(|e| Error::Tool {
            command: command.clone(),
            detail: e.to_string(),
        })?;
        c.stdin(f);
    }
    let out = c.output().map_err(|e| Error::Tool {
        command: command.clone(),
        detail: e.to_string(),
    })?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let detail = format!(
            "{}: {}",
            out.status,
            err.lines().take(3).collect::<Vec<_>>().join(" | ")
        );
        return Err(Error::Tool { command, detail });
    }
    Ok(())
}

/// The first of `names` found in PATH (or /usr/sbin, /sbin).
fn find_tool(names: &[&str]) -> Option<String> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/sbin", "/sbin"].map(PathBuf::from));
    names
        .iter()
        .find(|n| dirs.iter().any(|d| d.join(n).is_file()))
        .map(|n| n.to_string())
}

/// A temporary file removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(tag: &str, text: &str) -> Result<TempFile> {
        let p = std::env::temp_dir().join(format!("routeagent-bench-{}-{tag}", std::process::id()));
        std::fs::write(&p, text).map_err(|e| Error::Tool {
            command: format!("write {}", p.display()),
            detail: e.to_string(),
        })?;
        Ok(TempFile(p))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Times `f` once as a warm-up (state as in steady operation), then `runs`
/// times; the median in ms.
fn measure(runs: usize, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    f()?;
    let mut v = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f()?;
        v.push(ms(t));
    }
    Ok(median(v))
}

fn delta(add: Vec<IpNet>, remove: Vec<IpNet>) -> Vec<SetDelta> {
    vec![SetDelta {
        family: Family::Ip,
        table: TABLE.into(),
        set: SET.into(),
        add,
        remove,
    }]
}

/// `routeagent bench filter --cidrs N --runs R`: creates a namespace,
/// measures, removes it.
pub fn run(cidrs: usize, runs: usize) -> Result<FilterReport> {
    if cidrs == 0 || runs == 0 || cidrs > 30_000 {
        return Err(Error::Arguments(format!(
            "need 1..=30000 CIDRs and at least one run (got {cidrs} CIDRs, {runs} runs)"
        )));
    }
    let rs = ruleset(cidrs);
    let script = TempFile::new("nft", &ruleset::render::replace_script(&rs))?;
    let ipt = TempFile::new("ipt", &iptables_script(&cidrs_list(cidrs)))?;
    let restore =
        find_tool(&["iptables-nft-restore", "iptables-restore"]).ok_or_else(|| Error::Tool {
            command: "iptables-restore".into(),
            detail: "neither iptables-nft-restore nor iptables-restore is installed".into(),
        })?;
    let ns = NetNs::new("ra-bench").map_err(Error::Netns)?;
    let owned = packetfilter::Owned {
        table_names: vec![TABLE.into()],
    };
    ns.run(|| -> Result<FilterReport> {
        let nft = Nftables::new()?;
        let apply = measure(runs, || nft.apply(&rs).map(|_| ()).map_err(Error::from))?;
        let one = vec!["30.0.7.0/24".parse().unwrap_or_default()];
        let mut add = Vec::with_capacity(runs);
        let mut del = Vec::with_capacity(runs);
        for _ in 0..runs {
            let t = Instant::now();
            nft.update_sets(&delta(one.clone(), vec![]))?;
            add.push(ms(t));
            let t = Instant::now();
            nft.update_sets(&delta(vec![], one.clone()))?;
            del.push(ms(t));
        }
        nft.remove(&owned)?;
        let script_path = script.0.to_string_lossy().into_owned();
        let nft_file = measure(runs, || run_tool("nft", &["-f", &script_path], None))?;
        // one process per CIDR, on the N-CIDR set nft -f left behind
        let t = Instant::now();
        for c in cidrs_list_from(PER_ENTRY_SAMPLE, 40) {
            let elem = format!("{{ {c} }}");
            run_tool("nft", &["add", "element", "ip", TABLE, SET, &elem], None)?;
        }
        let per_entry = ms(t) / PER_ENTRY_SAMPLE as f64;
        nft.remove(&owned)?;
        let iptables = measure(runs, || run_tool(&restore, &[], Some(&ipt.0)))?;
        Ok(FilterReport {
            cidrs,
            runs,
            routeagent_apply_ms: apply,
            nft_file_ms: nft_file,
            nft_per_entry_ms: per_entry,
            iptables_restore_ms: iptables,
            routeagent_add_one_ms: median(add),
            routeagent_del_one_ms: median(del),
        })
    })
}

fn cidrs_list(n: usize) -> Vec<IpNet> {
    cidrs(n, 20)
}

fn cidrs_list_from(n: usize, first_octet: u8) -> Vec<IpNet> {
    cidrs(n, first_octet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_are_distinct_and_not_adjacent() {
        let c = cidrs(10_000, 20);
        assert_eq!(c[1].to_string(), "20.0.2.0/24");
        assert_eq!(
            Set::aggregated("s", IpVersion::V4, c.clone())
                .elements
                .len(),
            10_000
        );
    }

    #[test]
    fn benchmark_ruleset_is_valid() {
        ruleset::validate(&ruleset(100)).unwrap();
        assert_eq!(iptables_script(&cidrs(3, 20)).lines().count(), 4 + 3 + 1);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
