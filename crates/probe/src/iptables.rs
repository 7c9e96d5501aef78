//! iptables tooling: which binaries work, and which variant the host's
//! other components (kube-proxy, the CNI) already use.

use capabilities::{FeatureState, IptablesInfo, IptablesVariant};
use std::process::{Command, Stdio};

/// Chain-name prefixes of well-known components.
pub const KNOWN: [&str; 7] = [
    "KUBE-",
    "cali-",
    "FLANNEL",
    "CILIUM",
    "ANTREA",
    "DOCKER",
    "SUBMARINER",
];

/// Full path of `name` on `PATH` (plus /usr/sbin and /sbin).
pub fn which(name: &str) -> Option<String> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/bin"])
        .filter(|d| !d.is_empty())
        .map(|d| format!("{d}/{name}"))
        .find(|p| std::path::Path::new(p).is_file());
    found
}

/// Runs `program args` with no input; stdout when it exits 0.
pub(crate) fn run(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The path of `name` when it exists and `name --version` (plus, for
/// ipset, `ipset list -n`, which asks the kernel) exits 0.
fn working(name: &str) -> Option<String> {
    let p = which(name)?;
    run(&p, &["--version"])?;
    if name == "ipset" {
        run(&p, &["list", "-n"])?;
    }
    Some(p)
}

/// What one variant's save output shows.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Usage {
    /// `-A` lines outside the agent's own `RA-` chains.
    pub rules: usize,
    /// Chains of known components seen.
    pub known: Vec<String>,
    /// kube-proxy's hint chains (`KUBE-IPTABLES-HINT`, `KUBE-KUBELET-CANARY`).
    pub hint: bool,
}

/// Counts rules and known chains in `iptables-save` output.
pub fn usage(save: &str) -> Usage {
    let mut u = Usage::default();
    for l in save.lines() {
        if let Some(rest) = l.strip_prefix(':') {
            let name = rest.split_whitespace().next().unwrap_or("");
            if name == "KUBE-IPTABLES-HINT" || name == "KUBE-KUBELET-CANARY" {
                u.hint = true;
            }
            if KNOWN.iter().any(|k| name.starts_with(k)) && !u.known.iter().any(|x| x == name) {
                u.known.push(name.to_string());
            }
        } else if let Some(rest) = l.strip_prefix("-A ") {
            if !rest.starts_with("RA-") && !rest.contains("-j RA-") {
                u.rules += 1;
            }
        }
    }
    u
}

/// Which variant the host uses, like the kubernetes iptables-wrapper:
/// kube-proxy's hint chains decide; otherwise the variant holding more
/// rules; `None` when neither holds any.
pub fn decide(legacy: &Usage, nft: &Usage) -> (Option<IptablesVariant>, Vec<String>) {
    let describe = |n: &str, u: &Usage| {
        let mut s = format!("{n}: {} rules", u.rules);
        if !u.known.is_empty() {
            let shown: Vec<&str> = u.known.iter().take(5).map(String::as_str).collect();
            s.push_str(&format!(", chains {}", shown.join(" ")));
            if u.known.len() > 5 {
                s.push_str(&format!(" (+{} more)", u.known.len() - 5));
            }
        }
        if u.hint {
            s.push_str(", kube-proxy hint chain present");
        }
        s
    };
    let evidence = vec![
        describe("iptables-legacy", legacy),
        describe("iptables-nft", nft),
    ];
    let pick = match (legacy.hint, nft.hint) {
        (true, false) => Some(IptablesVariant::Legacy),
        (false, true) => Some(IptablesVariant::Nft),
        _ if legacy.rules > nft.rules => Some(IptablesVariant::Legacy),
        _ if nft.rules > legacy.rules => Some(IptablesVariant::Nft),
        _ if nft.rules > 0 || nft.hint => Some(IptablesVariant::Nft),
        _ => None,
    };
    (pick, evidence)
}

/// Legacy tables that exist, from /proc/net/ip*_tables_names. Reading
/// them this way instead of running `iptables-legacy-save` blindly avoids
/// instantiating empty legacy tables (which would make iptables-nft warn
/// "iptables-legacy tables present" on the host). Read from
/// `/proc/thread-self/net`, not `/proc/net` (which follows the process's
/// main thread): the probe may run on a thread that entered another
/// namespace.
fn legacy_tables(file: &str) -> bool {
    std::fs::read_to_string(format!("/proc/thread-self/net/{file}"))
        .or_else(|_| std::fs::read_to_string(format!("/proc/net/{file}")))
        .map(|s| !s.trim().is_empty())
        .unwrap_or(false)
}

/// Whether this thread holds CAP_NET_ADMIN (bit 12 of `CapEff` in
/// /proc/thread-self/status); assumed when unreadable.
pub fn has_net_admin() -> bool {
    let status = std::fs::read_to_string("/proc/thread-self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .is_none_or(|caps| caps & (1 << 12) != 0)
}

/// Tool states when the iptables probe itself failed.
pub fn unknown_states() -> [(capabilities::Feature, FeatureState); 3] {
    use capabilities::Feature;
    let s = || {
        FeatureState::off(
            "the iptables probe failed",
            "run `routeagent doctor` and report the error",
        )
    };
    [
        (Feature::IptablesNft, s()),
        (Feature::IptablesLegacy, s()),
        (Feature::Ipset, s()),
    ]
}

/// Probes binaries and usage. Read-only.
pub fn probe() -> (IptablesInfo, [(capabilities::Feature, FeatureState); 3]) {
    use capabilities::Feature;
    let save = |bin: &str| which(bin).and_then(|p| run(&p, &[])).unwrap_or_default();
    let (nft, legacy, ipset, legacy_text, nft_text) = std::thread::scope(|s| {
        let nft = s.spawn(|| working("iptables-nft-restore"));
        let legacy = s.spawn(|| working("iptables-legacy-restore"));
        let ipset = s.spawn(|| working("ipset"));
        let nft_text = s.spawn(|| save("iptables-nft-save") + &save("ip6tables-nft-save"));
        let mut legacy_text = String::new();
        if legacy_tables("ip_tables_names") {
            legacy_text += &save("iptables-legacy-save");
        }
        if legacy_tables("ip6_tables_names") {
            legacy_text += &save("ip6tables-legacy-save");
        }
        let j = |h: std::thread::ScopedJoinHandle<'_, Option<String>>| h.join().ok().flatten();
        (
            j(nft),
            j(legacy),
            j(ipset),
            legacy_text,
            nft_text.join().unwrap_or_default(),
        )
    });
    let (host_uses, evidence) = decide(&usage(&legacy_text), &usage(&nft_text));
    let admin = has_net_admin();
    let state = |p: &Option<String>, what: &str, fix: &str| {
        match p {
        Some(_) if !admin => FeatureState::off(
            format!("{what} is installed but this process lacks CAP_NET_ADMIN"),
            "needs CAP_NET_ADMIN in the node's network namespace (run privileged or add the NET_ADMIN capability)",
        ),
        Some(_) => FeatureState::on(),
        None => FeatureState::off(format!("{what} is missing or does not work"), fix),
    }
    };
    let states = [
        (Feature::IptablesNft, state(&nft, "iptables-nft-restore", "install the iptables package (with the nf_tables variant)")),
        (Feature::IptablesLegacy, state(&legacy, "iptables-legacy-restore", "install the iptables package (with the legacy variant) and a kernel with CONFIG_IP_NF_IPTABLES")),
        (Feature::Ipset, state(&ipset, "ipset (or the kernel's ip_set)", "install the ipset package; kernel CONFIG_IP_SET, CONFIG_IP_SET_HASH_NET")),
    ];
    (
        IptablesInfo {
            nft,
            legacy,
            ipset,
            host_uses,
            evidence,
        },
        states,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variant_with_the_hosts_rules_wins() {
        let kube = "*nat\n:POSTROUTING ACCEPT [0:0]\n:KUBE-POSTROUTING - [0:0]\n-A POSTROUTING -j KUBE-POSTROUTING\n-A KUBE-POSTROUTING -j MASQUERADE\nCOMMIT\n";
        let ours =
            "*nat\n:RA-POST - [0:0]\n-A POSTROUTING -j RA-POST\n-A RA-POST -j ACCEPT\nCOMMIT\n";
        let (pick, ev) = decide(&usage(kube), &usage(ours));
        assert_eq!(pick, Some(IptablesVariant::Legacy));
        assert!(
            ev[0].contains("2 rules") && ev[0].contains("KUBE-POSTROUTING"),
            "{ev:?}"
        );
        assert!(
            ev[1].contains("0 rules"),
            "our own chains do not count: {ev:?}"
        );
        assert_eq!(decide(&usage(""), &usage("")).0, None);
        let hint = "*mangle\n:KUBE-IPTABLES-HINT - [0:0]\nCOMMIT\n";
        assert_eq!(
            decide(&usage(kube), &usage(hint)).0,
            Some(IptablesVariant::Nft)
        );
    }
}
