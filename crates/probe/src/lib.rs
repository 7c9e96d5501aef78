//! The capability probe: what this host can do, learned once at start-up
//! in well under 200 ms without changing anything, as a
//! [`capabilities::Capabilities`] value; and the `doctor` report built on it.
//!
//! # Layout
//! - [`kernel`]: release, version, relevant config options
//!   (/proc/config.gz or /boot/config-RELEASE).
//! - [`questions`]: the dry-run questions: chain type x hook x family, and one
//!   rule per expression the agent uses.
//! - [`nft`]: the [`nft::Asker`] trait (dry runs, nothing committed), its
//!   `nft --check` implementation, and the evaluation into the chain matrix
//!   and feature states.
//! - [`netlink`]: [`netlink::Netlink`], the default asker: the nftables
//!   backend's dry-run helpers over netlink.
//! - [`iptables`]: which iptables/ipset binaries work and which variant the
//!   host's other components use (the iptables-wrapper heuristic).
//! - [`host`]: sysctls (read only) and VXLAN support (config, or a test link
//!   inside a temporary child namespace).
//! - [`cable`]: [`cable::CableFacts`]: which inter-cluster cable the node
//!   runs (XFRM policies, a `submariner` link, `vxlan-tunnel` + table 100,
//!   or the agent's own) and whether Globalnet's chains are present.
//! - [`doctor`]: [`doctor::Report`], the text and JSON of `routeagent doctor`.

pub mod cable;
pub mod doctor;
pub mod host;
pub mod iptables;
pub mod kernel;
pub mod netlink;
pub mod nft;
pub mod questions;

pub use capabilities::parse_feature_list as parse_assume_missing;
use capabilities::{Capabilities, Feature, FeatureState, KernelInfo};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

/// What the operator asked of the probe.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbeOptions {
    /// `--assume-missing` / `ROUTEAGENT_ASSUME_MISSING`: removed from the
    /// result after the real probe ran.
    pub assume_missing: Vec<Feature>,
}

/// Probes the host of the current network namespace. Never fails, never
/// changes the host: nf_tables is asked with dry-run batches, iptables and
/// ipset only with `--version`/`-save`/`list`, sysctls are read, and VXLAN is
/// tested (only when the config is unknown) inside a temporary child
/// namespace.
///
/// nf_tables is asked over netlink ([`netlink::Netlink`]): every question
/// in one dry-run batch, no `nft` binary needed. Only if netlink cannot
/// answer (no socket) and an `nft` binary exists is `nft --check` tried.
pub fn probe(opts: &ProbeOptions) -> Capabilities {
    probe_with(opts, &DefaultAsker)
}

/// `nft --check` when it can answer, else netlink, else unavailable.
struct DefaultAsker;

impl nft::Asker for DefaultAsker {
    fn ask(&self, questions: &[ruleset::Table]) -> Result<Vec<Result<(), i32>>, nft::AskError> {
        let netlink_error = match netlink::Netlink::open() {
            Ok(n) => return n.ask(questions),
            Err(e) => e,
        };
        if iptables::which("nft").is_some() {
            if let answer @ Ok(_) = nft::NftCheck.ask(questions) {
                tracing::debug!("netlink unavailable ({netlink_error}); answered by nft --check");
                return answer;
            }
        }
        Unavailable(netlink_error).ask(questions)
    }
}

/// An asker for when nf_tables cannot be reached at all.
struct Unavailable(String);

impl nft::Asker for Unavailable {
    fn ask(&self, _: &[ruleset::Table]) -> Result<Vec<Result<(), i32>>, nft::AskError> {
        Err(nft::AskError::Unavailable(format!(
            "cannot open a NETLINK_NETFILTER socket: {}",
            self.0
        )))
    }
}

/// [`probe`] with a chosen way of asking nf_tables.
pub fn probe_with(opts: &ProbeOptions, asker: &(dyn nft::Asker + Sync)) -> Capabilities {
    let start = Instant::now();
    // The three slow parts run side by side; threads inherit the caller's
    // network namespace.
    let (kernel, found, (iptables, tool_states)) = std::thread::scope(|s| {
        let ipt = s.spawn(iptables::probe);
        let kernel = s.spawn(kernel::probe);
        let found = nft::probe(asker);
        let kernel = kernel.join().unwrap_or_else(|_| KernelInfo {
            release: "unknown".into(),
            ..Default::default()
        });
        let ipt = ipt
            .join()
            .unwrap_or_else(|_| (Default::default(), iptables::unknown_states()));
        (kernel, found, ipt)
    });
    let mut features: BTreeMap<Feature, FeatureState> = found.features.into_iter().collect();
    features.extend(tool_states);
    features.insert(Feature::Vxlan, host::vxlan(&kernel));
    if !features.get(&Feature::Nftables).is_some_and(|s| s.enabled) {
        for (f, s) in xt_features(&kernel) {
            features.insert(f, s);
        }
    }
    for f in Feature::ALL {
        features
            .entry(f)
            .or_insert_with(|| FeatureState::off("not probed", "run `routeagent doctor`"));
    }
    let mut caps = Capabilities {
        kernel,
        chains: found.chains,
        features,
        iptables,
        sysctls: host::sysctls(),
        proc_sys_writable: host::proc_sys_writable(),
        assumed_missing: BTreeSet::new(),
        probe_ms: 0.0,
    };
    for f in &opts.assume_missing {
        caps.assume_missing(*f);
    }
    caps.probe_ms = start.elapsed().as_secs_f64() * 1000.0;
    tracing::debug!(probe_ms = caps.probe_ms, "host probed");
    caps
}

/// Without nf_tables, the expression features are what the iptables
/// backend can do: decided from the config's xtables options when known,
/// otherwise assumed (iptables-restore reports a missing target on apply).
fn xt_features(k: &KernelInfo) -> Vec<(Feature, FeatureState)> {
    let row = |f: Feature, opts: &[&str]| {
        let missing: Vec<&&str> = opts
            .iter()
            .filter(|o| kernel::option(k, o) == Some(false))
            .collect();
        let state = if let Some(o) = missing.first() {
            FeatureState::off(
                format!("the kernel is built without CONFIG_{o}"),
                format!("a kernel with CONFIG_{o}"),
            )
        } else if k.config.is_empty() {
            FeatureState {
                enabled: true,
                reason: Some(
                    "nf_tables unavailable; assumed available to iptables (kernel config unknown)"
                        .into(),
                ),
                fix: None,
            }
        } else {
            FeatureState::on()
        };
        (f, state)
    };
    let off = |f: Feature, why: &str| {
        (
            f,
            FeatureState::off(why, capabilities::choice::fix_for(Feature::Nftables)),
        )
    };
    vec![
        row(Feature::MssClamp, &["NETFILTER_XT_TARGET_TCPMSS"]),
        row(Feature::SelfSnat, &["NETFILTER_XT_TARGET_NETMAP"]),
        row(Feature::Masquerade, &["NETFILTER_XT_TARGET_MASQUERADE"]),
        row(Feature::Mark, &["NETFILTER_XT_MARK"]),
        row(Feature::Comments, &["NETFILTER_XT_MATCH_COMMENT"]),
        row(Feature::Ipv6, &["IPV6"]),
        off(
            Feature::IntervalSets,
            "interval sets are an nftables feature and nf_tables is unavailable",
        ),
        off(
            Feature::InetNat,
            "inet tables are an nftables feature and nf_tables is unavailable",
        ),
    ]
}
