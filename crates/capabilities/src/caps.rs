//! [`Capabilities`]: what the probe learned about the host.

use crate::feature::{Feature, FeatureState};
use ruleset::{ChainType, Family, Hook};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// family -> chain type -> hook -> accepted, as the kernel answered dry runs.
pub type ChainMatrix = BTreeMap<Family, BTreeMap<ChainType, BTreeMap<Hook, bool>>>;

/// The running kernel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KernelInfo {
    /// `uname -r`.
    pub release: String,
    /// (major, minor, patch) parsed from the release.
    pub version: Option<(u32, u32, u32)>,
    /// Where the config was read from (`/proc/config.gz`, `/boot/config-R`),
    /// `None` when neither exists.
    pub config_source: Option<String>,
    /// The relevant `CONFIG_*` options (without the prefix) -> `y`, `m` or
    /// `n`; empty when the config is unknown.
    pub config: BTreeMap<String, String>,
}

impl KernelInfo {
    /// Whether the kernel is at least `major.minor`. Unknown versions count
    /// as new enough (the dry-run probes decide).
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        self.version
            .is_none_or(|(a, b, _)| (a, b) >= (major, minor))
    }
}

/// Which iptables the host has and uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IptablesVariant {
    /// iptables-nft (xtables rules inside nf_tables).
    Nft,
    /// iptables-legacy (x_tables).
    Legacy,
}

/// iptables tooling found on the host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IptablesInfo {
    /// Path of `iptables-nft-restore`, when present and working.
    pub nft: Option<String>,
    /// Path of `iptables-legacy-restore`, when present and working.
    pub legacy: Option<String>,
    /// Path of `ipset`, when present and working.
    pub ipset: Option<String>,
    /// The variant other components on the host already use.
    pub host_uses: Option<IptablesVariant>,
    /// What `host_uses` was concluded from (chain names seen, rule counts).
    pub evidence: Vec<String>,
}

/// Everything the probe learned; the single input to backend choice, plan,
/// status and `doctor`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capabilities {
    /// The kernel.
    pub kernel: KernelInfo,
    /// The chain matrix as the kernel answered it (empty when nf_tables is
    /// unavailable).
    pub chains: ChainMatrix,
    /// Every [`Feature`] with its state.
    pub features: BTreeMap<Feature, FeatureState>,
    /// iptables tooling.
    pub iptables: IptablesInfo,
    /// Sysctls the agent relies on (`net.ipv4.ip_forward`, rp_filter, ...).
    pub sysctls: BTreeMap<String, String>,
    /// Whether /proc/sys/net is mounted writable here (`None`: unknown).
    /// Read-only in unprivileged containers: the agent then sets
    /// per-interface sysctls over rtnetlink and cannot change global ones.
    #[serde(default)]
    pub proc_sys_writable: Option<bool>,
    /// Features removed with `--assume-missing`.
    pub assumed_missing: BTreeSet<Feature>,
    /// How long the probe took, in milliseconds.
    pub probe_ms: f64,
}

impl Capabilities {
    /// A host that supports everything (for plans made without a probe, and
    /// tests). The chain matrix follows the kernel's fixed rules.
    pub fn full() -> Self {
        let mut chains = ChainMatrix::new();
        for fam in Family::ALL {
            for ty in ChainType::ALL {
                for hook in Hook::ALL {
                    let prio = if ty == ChainType::Nat {
                        ruleset::Priority::SRCNAT
                    } else {
                        ruleset::Priority::FILTER
                    };
                    let ok = ruleset::hook::chain_allowed(ty, hook, prio).is_none();
                    chains
                        .entry(fam)
                        .or_default()
                        .entry(ty)
                        .or_default()
                        .insert(hook, ok);
                }
            }
        }
        Capabilities {
            kernel: KernelInfo {
                release: "unknown".into(),
                ..Default::default()
            },
            chains,
            features: Feature::ALL
                .into_iter()
                .map(|f| (f, FeatureState::on()))
                .collect(),
            iptables: IptablesInfo::default(),
            sysctls: BTreeMap::new(),
            proc_sys_writable: None,
            assumed_missing: BTreeSet::new(),
            probe_ms: 0.0,
        }
    }

    /// Whether `f` is usable.
    pub fn has(&self, f: Feature) -> bool {
        self.features.get(&f).is_some_and(|s| s.enabled)
    }

    /// The state of `f` (off with "not probed" when absent).
    pub fn state(&self, f: Feature) -> FeatureState {
        self.features
            .get(&f)
            .cloned()
            .unwrap_or_else(|| FeatureState::off("not probed", "run `routeagent doctor`"))
    }

    /// Removes `f` as if the kernel lacked it (`--assume-missing f`).
    pub fn assume_missing(&mut self, f: Feature) {
        self.assumed_missing.insert(f);
        self.features.insert(
            f,
            FeatureState::off(
                format!("assumed missing (--assume-missing {f})"),
                format!("remove `--assume-missing {f}` (or {f} from ROUTEAGENT_ASSUME_MISSING)"),
            ),
        );
        if f == Feature::Nftables {
            self.chains.clear();
        }
    }

    /// Whether the kernel accepted this chain type on this hook in this family.
    pub fn chain_ok(&self, family: Family, ty: ChainType, hook: Hook) -> bool {
        self.chains
            .get(&family)
            .and_then(|m| m.get(&ty))
            .and_then(|m| m.get(&hook))
            .copied()
            .unwrap_or(false)
    }
}
