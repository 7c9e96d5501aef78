//! Backend and construct choice: pure, from [`Capabilities`] and the
//! operator's `--packet-filter` request.

use crate::caps::{Capabilities, IptablesVariant};
use crate::feature::{Feature, FeatureState};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// `--packet-filter auto|nftables|iptables`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PacketFilterRequest {
    /// Prefer nftables, fall back to the iptables variant the host uses.
    #[default]
    Auto,
    /// nftables or nothing.
    Nftables,
    /// iptables (the variant the host uses) or nothing.
    Iptables,
}

impl FromStr for PacketFilterRequest {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            "nftables" | "nft" => Ok(Self::Nftables),
            "iptables" => Ok(Self::Iptables),
            _ => Err(format!(
                "unknown packet filter {s:?}; use auto, nftables or iptables"
            )),
        }
    }
}

/// The backend in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackendKind {
    /// nftables over netlink.
    Nftables,
    /// iptables-nft-restore.
    IptablesNft,
    /// iptables-legacy-restore.
    IptablesLegacy,
}

impl BackendKind {
    /// Stable name (as in status and metrics).
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Nftables => "nftables",
            BackendKind::IptablesNft => "iptables-nft",
            BackendKind::IptablesLegacy => "iptables-legacy",
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How the agent's nftables tables are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TableLayout {
    /// One `inet` table (needs inet nat, kernel 5.2).
    Inet,
    /// One `ip` and one `ip6` table.
    Split,
}

/// A feature the agent runs without, and what that means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Degradation {
    /// The feature.
    pub feature: Feature,
    /// Why it is off, and what the agent does instead.
    pub reason: String,
    /// What the operator can do.
    pub fix: String,
}

/// The constructs the agent will program, decided once from capabilities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constructs {
    /// The backend.
    pub backend: BackendKind,
    /// Why this backend was chosen (one log line).
    pub why: String,
    /// Table layout (nftables only).
    pub layout: TableLayout,
    /// Clamp TCP MSS (filter postrouting priority mangle; mangle POSTROUTING).
    pub mss_clamp: bool,
    /// Self-SNAT for source preservation.
    pub self_snat: bool,
    /// Masquerade available.
    pub masquerade: bool,
    /// Rule comments.
    pub comments: bool,
    /// The plan may use named sets: nftables interval sets, or on the
    /// iptables backend ipsets (or sets the backend expands itself). Off:
    /// the plan writes one rule per prefix.
    pub interval_sets: bool,
    /// IPv6 rules.
    pub ipv6: bool,
    /// ipset sets on the iptables backend.
    pub ipset: bool,
    /// Packet marks.
    pub mark: bool,
    /// Final state of every feature, as status, metrics and doctor show it.
    pub features: BTreeMap<Feature, FeatureState>,
    /// The features the agent runs without.
    pub degradations: Vec<Degradation>,
}

/// The agent cannot program a packet filter: not ready, retrying.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{reason}; fix: {fix}")]
pub struct NotReady {
    /// Why.
    pub reason: String,
    /// What the operator can do.
    pub fix: String,
}

fn iptables_variant(caps: &Capabilities) -> Option<(BackendKind, String)> {
    let nft = caps.has(Feature::IptablesNft);
    let legacy = caps.has(Feature::IptablesLegacy);
    match caps.iptables.host_uses {
        Some(IptablesVariant::Legacy) if legacy => Some((
            BackendKind::IptablesLegacy,
            "the host's other components use iptables-legacy".into(),
        )),
        Some(IptablesVariant::Nft) if nft => Some((
            BackendKind::IptablesNft,
            "the host's other components use iptables-nft".into(),
        )),
        _ if nft => Some((BackendKind::IptablesNft, "iptables-nft is available".into())),
        _ if legacy => Some((
            BackendKind::IptablesLegacy,
            "iptables-legacy is available".into(),
        )),
        _ => None,
    }
}

/// Chooses the backend and constructs. An explicit request that cannot be
/// met, or no usable backend at all, is [`NotReady`]; `auto` falls back.
pub fn choose(caps: &Capabilities, request: PacketFilterRequest) -> Result<Constructs, NotReady> {
    let nft_state = caps.state(Feature::Nftables);
    let (backend, why) = match request {
        PacketFilterRequest::Nftables if caps.has(Feature::Nftables) => (BackendKind::Nftables, "requested nftables, and nf_tables answers".to_string()),
        PacketFilterRequest::Nftables => {
            return Err(NotReady {
                reason: format!("nftables was requested but is unavailable: {}", nft_state.reason.clone().unwrap_or_default()),
                fix: nft_state.fix.clone().unwrap_or_else(|| "use --packet-filter auto or iptables".into()),
            })
        }
        PacketFilterRequest::Iptables => match iptables_variant(caps) {
            Some((b, why)) => (b, format!("requested iptables; {why}")),
            None => {
                return Err(NotReady {
                    reason: "iptables was requested but neither iptables-nft-restore nor iptables-legacy-restore works".into(),
                    fix: "install the iptables package, or use --packet-filter auto".into(),
                })
            }
        },
        PacketFilterRequest::Auto if caps.has(Feature::Nftables) => (BackendKind::Nftables, "nf_tables answers and accepts every construct the agent needs".into()),
        PacketFilterRequest::Auto => match iptables_variant(caps) {
            Some((b, why)) => (b, format!("nftables unavailable ({}); falling back to iptables: {why}", nft_state.reason.clone().unwrap_or_default())),
            None => {
                return Err(NotReady {
                    reason: format!(
                        "no packet filter is usable: nftables: {}; iptables-nft: {}",
                        nft_state.reason.clone().unwrap_or_default(),
                        caps.state(Feature::IptablesNft).reason.unwrap_or_else(|| "unusable".into())
                    ),
                    fix: match nft_state.fix.clone() {
                        Some(f) if f.contains("CAP_NET_ADMIN") => f,
                        _ => "run on a kernel with CONFIG_NF_TABLES, or install the iptables package".into(),
                    },
                })
            }
        },
    };
    let mut features = caps.features.clone();
    for f in Feature::ALL {
        features
            .entry(f)
            .or_insert_with(|| FeatureState::off("not probed", "run `routeagent doctor`"));
    }
    let nft = backend == BackendKind::Nftables;
    // Features the iptables backend cannot express, whatever the kernel has.
    if !nft {
        features.insert(
            Feature::InetNat,
            FeatureState {
                enabled: false,
                reason: Some("not used by the iptables backend".into()),
                fix: None,
            },
        );
        // Named sets reach the iptables backend as sets: ipsets, or expanded
        // into one rule per prefix by the backend itself.
        features.insert(
            Feature::IntervalSets,
            FeatureState {
                enabled: true,
                reason: Some(if caps.has(Feature::Ipset) {
                    "provided as ipset hash:net sets by the iptables backend".into()
                } else {
                    "expanded into one rule per prefix by the iptables backend (no ipset)".into()
                }),
                fix: None,
            },
        );
    }
    let has = |f: Feature| features.get(&f).is_some_and(|s| s.enabled);
    let layout = if nft && has(Feature::InetNat) {
        crate::TableLayout::Inet
    } else {
        crate::TableLayout::Split
    };
    let mut degradations = Vec::new();
    if !nft && request == PacketFilterRequest::Auto {
        degradations.push(Degradation {
            feature: Feature::Nftables,
            reason: format!(
                "{}: the agent programs the same rules with {backend} instead",
                nft_state
                    .reason
                    .clone()
                    .unwrap_or_else(|| "nf_tables unavailable".into())
            ),
            fix: nft_state
                .fix
                .clone()
                .unwrap_or_else(|| fix_for(Feature::Nftables)),
        });
    }
    for f in Feature::DEGRADABLE
        .into_iter()
        .chain((!nft).then_some(Feature::Ipset))
    {
        let s = &features[&f];
        if s.enabled || (f == Feature::InetNat && !nft) {
            continue;
        }
        let req = f.requirement();
        degradations.push(Degradation {
            feature: f,
            reason: format!(
                "{}: {}",
                s.reason.clone().unwrap_or_else(|| "unsupported".into()),
                req.without
            ),
            fix: s.fix.clone().unwrap_or_else(|| fix_for(f)),
        });
    }
    Ok(Constructs {
        backend,
        why,
        layout,
        mss_clamp: has(Feature::MssClamp),
        self_snat: has(Feature::SelfSnat),
        masquerade: has(Feature::Masquerade),
        comments: has(Feature::Comments),
        interval_sets: has(Feature::IntervalSets),
        ipv6: has(Feature::Ipv6),
        ipset: !nft && has(Feature::Ipset),
        mark: has(Feature::Mark),
        features,
        degradations,
    })
}

/// The generic fix for a missing feature, from the requirements table.
pub fn fix_for(f: Feature) -> String {
    let r = f.requirement();
    let mut parts = Vec::new();
    if let Some(k) = r.min_kernel {
        parts.push(format!("kernel >= {k}"));
    }
    if !r.config.is_empty() {
        parts.push(format!("CONFIG_{}", r.config.join(", CONFIG_")));
    }
    if let Some(p) = r.package {
        parts.push(format!("package {p}"));
    }
    parts.join("; ")
}
