//! How the nftables-shaped model maps onto iptables: chain names, ipset
//! names, and which built-in table/chain a base chain hooks into.

use ruleset::{BaseChain, ChainType, Hook, IpVersion, Priority};

/// Prefix of every chain and ipset the backend owns (`RA-FORWARD`).
/// `remove` deletes whatever starts with it, whichever version created it.
pub const PREFIX: &str = "RA-";
/// Prefix of IPv6 ipsets (ipset names are shared by both families).
pub const PREFIX6: &str = "RA6-";
/// Longest iptables chain name (XT_EXTENSION_MAXNAMELEN - 1).
pub const MAX_CHAIN: usize = 28;
/// Longest ipset name (IPSET_MAXNAMELEN - 1), leaving room for the `~`
/// suffix of the temporary set used for atomic swaps.
pub const MAX_SET: usize = 30;

/// The iptables chain for model chain `name`: `RA-` + upper-cased name,
/// cut to 28 characters (`forward` -> `RA-FORWARD`); a name that already
/// starts with `ra-` is not prefixed twice (`ra-mss` -> `RA-MSS`).
pub fn chain(name: &str) -> String {
    let up = name.to_ascii_uppercase();
    let base = up.strip_prefix(PREFIX).unwrap_or(&up);
    cut(format!("{PREFIX}{base}"), MAX_CHAIN)
}

/// The ipset for model set `name` of IP version `v` (`RA-REMOTE`,
/// `RA6-REMOTE`): ipset names are global in a namespace, so the version is
/// part of the name.
pub fn ipset(name: &str, v: IpVersion) -> String {
    let p = if v == IpVersion::V4 { PREFIX } else { PREFIX6 };
    cut(format!("{p}{}", name.to_ascii_uppercase()), MAX_SET)
}

/// Whether an ipset name is ours.
pub fn is_our_set(name: &str) -> bool {
    name.starts_with(PREFIX) || name.starts_with(PREFIX6)
}

fn cut(mut s: String, n: usize) -> String {
    s.truncate(n);
    s
}

/// An iptables table the backend writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum XtTable {
    /// `mangle`: filter chains at priority mangle or earlier, filter chains
    /// on prerouting/postrouting, and route chains.
    Mangle,
    /// `nat`: nat chains.
    Nat,
    /// `filter`: filter chains on input/forward/output after mangle.
    Filter,
}

impl XtTable {
    /// Every table, in the order the restore file lists them.
    pub const ALL: [XtTable; 3] = [XtTable::Mangle, XtTable::Nat, XtTable::Filter];
    /// The name iptables uses (`-t nat`).
    pub fn as_str(self) -> &'static str {
        match self {
            XtTable::Mangle => "mangle",
            XtTable::Nat => "nat",
            XtTable::Filter => "filter",
        }
    }
}

/// The built-in table and chain a base chain of the model corresponds to:
/// `type filter hook forward priority 0` -> `filter FORWARD`,
/// `type filter hook postrouting priority mangle` -> `mangle POSTROUTING`
/// (the MSS chain), `type nat hook postrouting` -> `nat POSTROUTING`,
/// `type route hook output` -> `mangle OUTPUT` (re-routes after a mark
/// change, as nft's route chains do).
pub fn builtin(b: &BaseChain) -> (XtTable, &'static str) {
    let t = match b.ty {
        ChainType::Nat => XtTable::Nat,
        ChainType::Route => XtTable::Mangle,
        ChainType::Filter
            if b.priority <= Priority::MANGLE
                || matches!(b.hook, Hook::Prerouting | Hook::Postrouting) =>
        {
            XtTable::Mangle
        }
        ChainType::Filter => XtTable::Filter,
    };
    (t, b.hook.iptables_chain())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruleset::Policy;

    fn b(ty: ChainType, hook: Hook, p: Priority) -> BaseChain {
        BaseChain {
            ty,
            hook,
            priority: p,
            policy: Policy::Accept,
        }
    }

    #[test]
    fn base_chains_map_to_the_iptables_tables() {
        use ChainType::*;
        use Hook::*;
        assert_eq!(
            builtin(&b(Filter, Forward, Priority(-10))),
            (XtTable::Filter, "FORWARD")
        );
        assert_eq!(
            builtin(&b(Filter, Input, Priority::FILTER)),
            (XtTable::Filter, "INPUT")
        );
        assert_eq!(
            builtin(&b(Filter, Postrouting, Priority::MANGLE)),
            (XtTable::Mangle, "POSTROUTING")
        );
        assert_eq!(
            builtin(&b(Filter, Postrouting, Priority(-10))),
            (XtTable::Mangle, "POSTROUTING")
        );
        assert_eq!(
            builtin(&b(Filter, Forward, Priority::MANGLE)),
            (XtTable::Mangle, "FORWARD")
        );
        assert_eq!(
            builtin(&b(Nat, Postrouting, Priority(-110))),
            (XtTable::Nat, "POSTROUTING")
        );
        assert_eq!(
            builtin(&b(Route, Output, Priority::MANGLE)),
            (XtTable::Mangle, "OUTPUT")
        );
    }

    #[test]
    fn names_are_prefixed_upper_cased_and_short() {
        assert_eq!(chain("postrouting-mss"), "RA-POSTROUTING-MSS");
        assert_eq!(chain("ra-mss"), "RA-MSS");
        assert_eq!(chain(&"x".repeat(40)).len(), MAX_CHAIN);
        assert_eq!(ipset("remote", IpVersion::V4), "RA-REMOTE");
        assert_eq!(ipset("remote", IpVersion::V6), "RA6-REMOTE");
        assert!(ipset(&"y".repeat(40), IpVersion::V6).len() <= MAX_SET);
    }
}
