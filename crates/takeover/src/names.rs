//! The names Submariner's Go route agent uses (coexistence facts, section
//! 4), and the test that tells its objects from those of others sharing a
//! name or table (Globalnet's `SUBMARINER-GN-*` and `SM-GN-*` chains and
//! sets, its jump inside `SUBMARINER-POSTROUTING`).

/// Chains the route agent creates, in iptables (nat, mangle, filter) and
/// in its nftables tables. `SUBMARINER-POSTROUTING` (nat) is shared with
/// Globalnet, which prepends its jump to `SUBMARINER-GN-EGRESS` there.
pub const CHAINS: &[&str] = &[
    "SUBMARINER-POSTROUTING",
    "SUBMARINER-POSTROUTING-MSS",
    "SUBMARINER-INPUT",
    "SUBMARINER-FORWARD",
    "SUBMARINER-FWD-MSSCLAMP",
    "SUBMARINER-SELF-SNAT",
];

/// Sets the route agent's MTU handler creates (ipsets `hash:net`, or nft
/// sets in its table).
pub const SETS: &[&str] = &[
    "SUBMARINER-LOCALCIDRS",
    "SUBMARINER-REMOTECIDRS",
    "SUBMARINER-LOCALCIDRS-V6",
    "SUBMARINER-REMOTECIDRS-V6",
];

/// nftables tables of the Go agent's nft driver, in any family: `ip
/// submariner` (2024, shared with Globalnet), `submariner` (0.20 self-SNAT),
/// `submariner-ipv4` / `submariner-ipv6` (0.21+).
pub const NFT_TABLES: &[&str] = &["submariner", "submariner-ipv4", "submariner-ipv6"];

/// The intra-cluster VXLAN link both agents use.
pub const VXLAN: &str = "vx-submariner";

/// The gateway's routing table and the priority of its rule.
pub const TABLE: u32 = 150;

/// `proto static`: the protocol of the Go agent's routes.
pub const PROTO_STATIC: u8 = 4;

/// Whether `name` is one of the route agent's chains.
pub fn is_chain(name: &str) -> bool {
    CHAINS.contains(&name)
}

/// Whether `name` is one of the route agent's sets.
pub fn is_set(name: &str) -> bool {
    SETS.contains(&name)
}

/// What a rule inside one of the route agent's chains refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refs<'a> {
    /// Chains it jumps or goes to.
    pub jumps: &'a [String],
    /// Sets it matches on.
    pub sets: &'a [String],
    /// Whether it reads or writes the packet mark (Globalnet's 0xC0000).
    pub mark: bool,
}

/// Whether a rule found in one of the route agent's chains belongs to the
/// route agent: it jumps only to route-agent chains, matches only on
/// route-agent sets and leaves the mark alone. Anything else (Globalnet's
/// jump to `SUBMARINER-GN-EGRESS`, a rule on `SM-GN-*` sets or on the mark)
/// belongs to someone else and stays.
pub fn is_route_agent_rule(r: Refs<'_>) -> bool {
    !r.mark && r.jumps.iter().all(|j| is_chain(j)) && r.sets.iter().all(|s| is_set(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globalnet_rules_are_not_the_route_agents() {
        let gn = ["SUBMARINER-GN-EGRESS".to_string()];
        let none: [String; 0] = [];
        let sets = ["SUBMARINER-LOCALCIDRS".to_string()];
        let gn_set = ["SM-GN-abc".to_string()];
        assert!(!is_route_agent_rule(Refs {
            jumps: &gn,
            sets: &none,
            mark: false
        }));
        assert!(!is_route_agent_rule(Refs {
            jumps: &none,
            sets: &gn_set,
            mark: false
        }));
        assert!(!is_route_agent_rule(Refs {
            jumps: &none,
            sets: &none,
            mark: true
        }));
        assert!(is_route_agent_rule(Refs {
            jumps: &none,
            sets: &sets,
            mark: false
        }));
    }
}
