//! Field deserializers whose errors quote the bad value and say what is
//! expected. serde_yaml prefixes them with the field path and the line.

use ipnet::IpNet;
use serde::de::{Deserialize, Deserializer, Error, Visitor};
use std::fmt;
use std::net::IpAddr;

/// One CIDR (`ADDRESS/PREFIX`).
struct Cidr(IpNet);

// The errors are raised inside the visitor, so that serde_yaml attaches the
// scalar's own path (`subnets[1]`) and position rather than the list's.
impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(Text(|s: &str| parse_cidr(s).map(Cidr)))
    }
}

/// A visitor of a string scalar that parses it with a closure.
struct Text<F>(F);

impl<'de, T, F: FnOnce(&str) -> Result<T, String>> Visitor<'de> for Text<F> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: Error>(self, v: &str) -> Result<T, E> {
        (self.0)(v).map_err(E::custom)
    }
}

/// Parses `ADDRESS/PREFIX`; the error quotes `s` and gives an example.
pub fn parse_cidr(s: &str) -> Result<IpNet, String> {
    let t = s.trim();
    if !t.contains('/') {
        return Err(format!(
            "{s:?} is not a CIDR: the prefix length is missing (write e.g. {t}/16, or {t}/32 for one address)"
        ));
    }
    t.parse::<IpNet>()
        .map_err(|_| format!("{s:?} is not a CIDR (write ADDRESS/PREFIX, e.g. 10.244.0.0/16)"))
}

/// One IP address.
struct Ip(IpAddr);

impl<'de> Deserialize<'de> for Ip {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(Text(|s: &str| {
            s.trim()
                .parse::<IpAddr>()
                .map(Ip)
                .map_err(|_| format!("{s:?} is not an IP address (e.g. 10.1.0.1)"))
        }))
    }
}

/// `deserialize_with` for a list of CIDRs.
pub fn cidrs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
    Ok(Vec::<Cidr>::deserialize(d)?
        .into_iter()
        .map(|c| c.0)
        .collect())
}

/// `deserialize_with` for one IP address.
pub fn ip<'de, D: Deserializer<'de>>(d: D) -> Result<IpAddr, D::Error> {
    Ok(Ip::deserialize(d)?.0)
}

/// `deserialize_with` for an optional IP address (`null` or absent = none).
pub fn opt_ip<'de, D: Deserializer<'de>>(d: D) -> Result<Option<IpAddr>, D::Error> {
    Ok(Option::<Ip>::deserialize(d)?.map(|i| i.0))
}

/// `deserialize_with` for an optional CIDR (`null` or absent = none).
pub fn opt_cidr<'de, D: Deserializer<'de>>(d: D) -> Result<Option<IpNet>, D::Error> {
    Ok(Option::<Cidr>::deserialize(d)?.map(|c| c.0))
}
