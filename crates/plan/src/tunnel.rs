//! Tunnel addresses derived from underlay addresses, as Submariner does:
//! the first octet is replaced (10.1.2.3 -> 240.1.2.3/8 on vx-submariner,
//! -> 241.1.2.3/8 on the cable). The map is not injective (10.1.2.3 and
//! 172.1.2.3 both give 240.1.2.3), so collisions are detected and reported.

use ipnet::{IpNet, Ipv4Net};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

/// First octet of vx-submariner addresses.
pub const VX_OCTET: u8 = 240;
/// First octet of cable addresses.
pub const CABLE_OCTET: u8 = 241;
/// Prefix length of tunnel addresses.
pub const PREFIX_LEN: u8 = 8;

/// `first.b.c.d` from `a.b.c.d`; `None` for IPv6 (topology validation
/// refuses IPv6 tunnel endpoints).
pub fn addr(first: u8, underlay: IpAddr) -> Option<Ipv4Addr> {
    match underlay {
        IpAddr::V4(v4) => {
            let [_, b, c, d] = v4.octets();
            Some(Ipv4Addr::new(first, b, c, d))
        }
        IpAddr::V6(_) => None,
    }
}

/// The address with its /8, as put on the link.
pub fn net(a: Ipv4Addr) -> IpNet {
    // PREFIX_LEN is <= 32, so this cannot fail.
    IpNet::V4(Ipv4Net::new(a, PREFIX_LEN).unwrap_or_else(|_| Ipv4Net::from(a)))
}

/// The network all tunnel addresses with this first octet live in.
pub fn network(first: u8) -> IpNet {
    net(Ipv4Addr::new(first, 0, 0, 0))
}

/// Tunnel addresses shared by more than one owner: address -> owners
/// (sorted). `owners` are (name, underlay address).
pub fn collisions<'a>(
    first: u8,
    owners: impl IntoIterator<Item = (&'a str, IpAddr)>,
) -> BTreeMap<Ipv4Addr, Vec<String>> {
    let mut by: BTreeMap<Ipv4Addr, Vec<String>> = BTreeMap::new();
    for (name, ip) in owners {
        if let Some(a) = addr(first, ip) {
            by.entry(a).or_default().push(format!("{name} ({ip})"));
        }
    }
    by.retain(|_, v| v.len() > 1);
    by.values_mut().for_each(|v| v.sort());
    by
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_and_collides() {
        let a = addr(VX_OCTET, "10.1.2.3".parse().unwrap()).unwrap();
        assert_eq!(a.to_string(), "240.1.2.3");
        assert_eq!(net(a).to_string(), "240.1.2.3/8");
        assert_eq!(network(CABLE_OCTET).to_string(), "241.0.0.0/8");
        assert_eq!(addr(VX_OCTET, "fd00::1".parse().unwrap()), None);
        let c = collisions(
            VX_OCTET,
            [
                ("x", "10.1.2.3".parse().unwrap()),
                ("y", "172.1.2.3".parse().unwrap()),
                ("z", "10.1.2.4".parse().unwrap()),
            ],
        );
        assert_eq!(c.len(), 1);
        assert_eq!(
            c[&"240.1.2.3".parse::<Ipv4Addr>().unwrap()],
            ["x (10.1.2.3)", "y (172.1.2.3)"]
        );
    }
}
