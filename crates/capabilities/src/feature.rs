//! Stable feature names and what each needs from the host.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A capability the agent can use or do without. The names are stable: they
/// are shared by `doctor`, `--assume-missing`, `/status` and the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Feature {
    /// nf_tables answers netlink requests and we may use it.
    Nftables,
    /// `iptables-nft-restore` exists and works.
    IptablesNft,
    /// `iptables-legacy-restore` exists and works.
    IptablesLegacy,
    /// `ipset` exists and the kernel has hash:net sets.
    Ipset,
    /// nat chains in `inet` tables (kernel 5.2).
    InetNat,
    /// TCP MSS clamping (`tcp option maxseg size set`, `rt mtu`; TCPMSS target).
    MssClamp,
    /// `snat to ip saddr`: source preservation that beats other tables' masquerade.
    SelfSnat,
    /// `masquerade`.
    Masquerade,
    /// `meta mark` / MARK.
    Mark,
    /// Rule comments.
    Comments,
    /// Interval sets (`flags interval`) for CIDRs.
    IntervalSets,
    /// IPv6 packet filtering.
    Ipv6,
    /// VXLAN interfaces.
    Vxlan,
}

impl Feature {
    /// Every feature, in a stable order. The one hand-kept list: the others
    /// are derived from it.
    pub const ALL: [Feature; 13] = [
        Feature::Nftables,
        Feature::IptablesNft,
        Feature::IptablesLegacy,
        Feature::Ipset,
        Feature::InetNat,
        Feature::MssClamp,
        Feature::SelfSnat,
        Feature::Masquerade,
        Feature::Mark,
        Feature::Comments,
        Feature::IntervalSets,
        Feature::Ipv6,
        Feature::Vxlan,
    ];

    /// Features whose absence changes what the agent programs: each one
    /// missing is a degradation. [`Feature::ALL`] without the packet-filter
    /// tools ([`Feature::is_degradable`]), in the same order.
    pub const DEGRADABLE: [Feature; 9] = Feature::degradable();

    /// False for the packet-filter tools the agent chooses between
    /// (nftables, iptables-nft, iptables-legacy, ipset): without one of them
    /// it picks another backend or set mode rather than degrading. Every
    /// variant is named here, so a new feature must be classified.
    pub const fn is_degradable(self) -> bool {
        match self {
            Feature::Nftables | Feature::IptablesNft | Feature::IptablesLegacy | Feature::Ipset => {
                false
            }
            Feature::InetNat
            | Feature::MssClamp
            | Feature::SelfSnat
            | Feature::Masquerade
            | Feature::Mark
            | Feature::Comments
            | Feature::IntervalSets
            | Feature::Ipv6
            | Feature::Vxlan => true,
        }
    }

    /// [`Feature::ALL`] filtered by [`Feature::is_degradable`]; a wrong
    /// length for [`Feature::DEGRADABLE`] fails to compile.
    const fn degradable() -> [Feature; 9] {
        let mut out = [Feature::Vxlan; 9];
        let (mut i, mut n) = (0, 0);
        while i < Feature::ALL.len() {
            if Feature::ALL[i].is_degradable() {
                out[n] = Feature::ALL[i];
                n += 1;
            }
            i += 1;
        }
        assert!(n == out.len(), "Feature::DEGRADABLE has the wrong length");
        out
    }

    /// The stable name.
    pub fn name(self) -> &'static str {
        match self {
            Feature::Nftables => "nftables",
            Feature::IptablesNft => "iptables-nft",
            Feature::IptablesLegacy => "iptables-legacy",
            Feature::Ipset => "ipset",
            Feature::InetNat => "inet-nat",
            Feature::MssClamp => "mss-clamp",
            Feature::SelfSnat => "self-snat",
            Feature::Masquerade => "masquerade",
            Feature::Mark => "mark",
            Feature::Comments => "comments",
            Feature::IntervalSets => "interval-sets",
            Feature::Ipv6 => "ipv6",
            Feature::Vxlan => "vxlan",
        }
    }

    /// What the feature needs and what happens without it.
    pub fn requirement(self) -> &'static Requirement {
        REQUIREMENTS
            .iter()
            .find(|r| r.feature == self)
            .expect("every feature has a requirement row")
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<Feature> for String {
    fn from(f: Feature) -> String {
        f.name().to_string()
    }
}

impl FromStr for Feature {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Feature::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Feature::ALL.iter().map(|f| f.name()).collect();
                format!(
                    "unknown feature {s:?}; known features: {}",
                    names.join(", ")
                )
            })
    }
}

impl TryFrom<String> for Feature {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

/// Whether a feature is usable, and if not, why and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureState {
    /// Usable (supported by the host and not assumed missing).
    pub enabled: bool,
    /// Why it is off (or a note on how it is provided); `None` when simply on.
    pub reason: Option<String>,
    /// What the operator can do to get it.
    pub fix: Option<String>,
}

impl FeatureState {
    /// Supported.
    pub fn on() -> Self {
        FeatureState {
            enabled: true,
            reason: None,
            fix: None,
        }
    }
    /// Not supported, with reason and fix.
    pub fn off(reason: impl Into<String>, fix: impl Into<String>) -> Self {
        FeatureState {
            enabled: false,
            reason: Some(reason.into()),
            fix: Some(fix.into()),
        }
    }
}

/// One row of the requirements table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Requirement {
    /// The feature.
    pub feature: Feature,
    /// First kernel release that has it (`None`: not a kernel matter).
    pub min_kernel: Option<&'static str>,
    /// Kernel config options it needs.
    pub config: &'static [&'static str],
    /// Debian package that provides the user-space part, if any.
    pub package: Option<&'static str>,
    /// What the agent does without it.
    pub without: &'static str,
}

/// The requirements table; docs/REQUIREMENTS.md is generated from it.
pub const REQUIREMENTS: &[Requirement] = &[
    Requirement {
        feature: Feature::Nftables,
        min_kernel: Some("3.13"),
        config: &["NF_TABLES", "NF_TABLES_IPV4", "NFT_CT", "NFT_NAT"],
        package: None,
        without: "the agent programs the same rules through iptables-restore (the variant the host already uses)",
    },
    Requirement {
        feature: Feature::IptablesNft,
        min_kernel: Some("3.13"),
        config: &["NF_TABLES", "NFT_COMPAT"],
        package: Some("iptables"),
        without: "only used as the fallback; without it (and without nftables) the agent cannot program a packet filter and reports not ready",
    },
    Requirement {
        feature: Feature::IptablesLegacy,
        min_kernel: Some("2.4"),
        config: &["IP_NF_IPTABLES", "IP_NF_NAT", "IP_NF_MANGLE"],
        package: Some("iptables"),
        without: "only used as the fallback when the host's other components use legacy iptables",
    },
    Requirement {
        feature: Feature::Ipset,
        min_kernel: Some("2.6.39"),
        config: &["IP_SET", "IP_SET_HASH_NET", "NETFILTER_XT_SET"],
        package: Some("ipset"),
        without: "on the iptables backend, sets are expanded into one rule per prefix (slower to update)",
    },
    Requirement {
        feature: Feature::InetNat,
        min_kernel: Some("5.2"),
        config: &["NF_TABLES_INET", "NFT_NAT"],
        package: None,
        without: "the agent uses separate ip and ip6 tables instead of one inet table",
    },
    Requirement {
        feature: Feature::MssClamp,
        min_kernel: Some("4.14"),
        config: &["NFT_EXTHDR", "NFT_RT", "NETFILTER_XT_TARGET_TCPMSS"],
        package: None,
        without: "TCP MSS is not clamped: TCP across clusters can stall when the tunnel MTU is smaller than the pods' MTU",
    },
    Requirement {
        feature: Feature::SelfSnat,
        min_kernel: Some("3.18"),
        config: &["NFT_NAT", "NF_NAT", "NETFILTER_XT_TARGET_NETMAP"],
        package: None,
        without: "cross-cluster traffic is exempted from masquerade with accept rules only, which another table's masquerade (a CNI, kube-proxy) can still override: remote pods may see node addresses",
    },
    Requirement {
        feature: Feature::Masquerade,
        min_kernel: Some("3.18"),
        config: &["NFT_MASQ", "NF_NAT_MASQUERADE"],
        package: None,
        without: "host-network traffic to remote clusters is SNATed to a fixed address instead",
    },
    Requirement {
        feature: Feature::Mark,
        min_kernel: Some("3.14"),
        config: &["NFT_META", "NETFILTER_XT_MARK"],
        package: None,
        without: "no packet marks are set (the agent does not need them for connectivity)",
    },
    Requirement {
        feature: Feature::Comments,
        min_kernel: Some("3.15"),
        config: &["NETFILTER_XT_MATCH_COMMENT"],
        package: None,
        without: "rules are programmed without comments",
    },
    Requirement {
        feature: Feature::IntervalSets,
        min_kernel: Some("3.13"),
        config: &["NFT_SET_RBTREE"],
        package: None,
        without: "sets are expanded into one rule per prefix",
    },
    Requirement {
        feature: Feature::Ipv6,
        min_kernel: Some("3.13"),
        config: &["IPV6", "NF_TABLES_IPV6"],
        package: None,
        without: "IPv6 cluster CIDRs get no packet-filter rules (IPv4 keeps working)",
    },
    Requirement {
        feature: Feature::Vxlan,
        min_kernel: Some("3.7"),
        config: &["VXLAN"],
        package: None,
        without: "no vx-submariner interface: the node cannot reach remote clusters (core function lost)",
    },
];

/// Parses a comma- or space-separated feature list as given in
/// `ROUTEAGENT_ASSUME_MISSING` (`"mss-clamp, ipv6"`). Empty items are
/// skipped; an unknown name is an error that names it and lists the known
/// features.
pub fn parse_feature_list(s: &str) -> Result<Vec<Feature>, String> {
    let mut out = Vec::new();
    for item in s.split([',', ' ', '\t', '\n']).map(str::trim) {
        if item.is_empty() {
            continue;
        }
        let f: Feature = item.parse()?;
        if !out.contains(&f) {
            out.push(f);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in Feature::ALL {
            assert_eq!(f.name().parse::<Feature>().unwrap(), f);
            assert_eq!(serde_json::to_string(&f).unwrap(), format!("\"{f}\""));
        }
    }

    #[test]
    fn list_parses_and_unknown_names_are_explained() {
        assert_eq!(
            parse_feature_list(" mss-clamp,ipv6,, mss-clamp ").unwrap(),
            vec![Feature::MssClamp, Feature::Ipv6]
        );
        assert!(parse_feature_list("").unwrap().is_empty());
        let e = parse_feature_list("ipv6,mss").unwrap_err();
        assert!(e.contains("\"mss\""), "{e}");
        assert!(e.contains("mss-clamp") && e.contains("self-snat"), "{e}");
    }
}
