//! Host snapshots of a node namespace, normalised so that two snapshots of
//! an unchanged host are equal: links, addresses, routes, rules, FDB,
//! nftables (counter values zeroed), XFRM policies, ipsets and sysctls,
//! read with `ip -j`, `bridge -j`, `nft -j`, `ip xfrm`, `ipset save` and
//! `sysctl -a`.

use crate::ns::sh;
use crate::Result;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// One namespace's state: section name -> canonical JSON items.
pub type Snapshot = BTreeMap<String, BTreeSet<String>>;

/// Keys of `ip -j link` kept (counters and indexes of peers vary).
const LINK_KEYS: &[&str] = &[
    "ifname",
    "flags",
    "mtu",
    "operstate",
    "link_type",
    "address",
    "master",
    "qdisc",
];

/// Takes the snapshot of namespace `ns`.
pub fn take(ns: &str) -> Result<Snapshot> {
    let mut s = Snapshot::new();
    let links = json(ns, "ip -j link show")?;
    s.insert("links".into(), items(&links, |l| keep(l, LINK_KEYS)));
    let addrs = json(ns, "ip -j addr show")?;
    s.insert(
        "addresses".into(),
        items(&addrs, |l| {
            let mut out = Vec::new();
            for a in l["addr_info"].as_array().into_iter().flatten() {
                out.push(serde_json::json!({
                    "dev": l["ifname"], "family": a["family"], "local": a["local"],
                    "prefixlen": a["prefixlen"], "scope": a["scope"], "broadcast": a["broadcast"],
                }));
            }
            out
        }),
    );
    for (name, cmd) in [
        ("routes", "ip -j -4 route show table all"),
        ("routes6", "ip -j -6 route show table all"),
        ("rules", "ip -j -4 rule show"),
        ("rules6", "ip -j -6 rule show"),
        ("fdb", "bridge -j fdb show"),
    ] {
        let v = json(ns, cmd)?;
        s.insert(
            name.into(),
            items(&v, |r| {
                let mut r = r.clone();
                if let Some(o) = r.as_object_mut() {
                    o.remove("expires");
                }
                vec![r]
            }),
        );
    }
    let nft = json(ns, "nft -j list ruleset")?;
    s.insert(
        "nftables".into(),
        items(&nft["nftables"], |o| {
            if o.get("metainfo").is_some() {
                return vec![];
            }
            let mut o = o.clone();
            strip(&mut o, "handle");
            zero_counters(&mut o);
            vec![o]
        }),
    );
    for (name, cmd) in [("xfrm", "ip xfrm policy list"), ("ipset", "ipset save")] {
        let text = sh(ns, &format!("{cmd} 2>/dev/null || true"))?;
        s.insert(name.into(), text.lines().map(str::to_string).collect());
    }
    let sysctl = sh(
        ns,
        "sysctl -a 2>/dev/null | grep -E '^net\\.ipv[46]\\.(ip_forward|conf\\.)' || true",
    )?;
    s.insert(
        "sysctls".into(),
        sysctl.lines().map(str::to_string).collect(),
    );
    Ok(s)
}

/// What differs: `section: - item` (only before) and `+ item` (only after).
pub fn diff(before: &Snapshot, after: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    let empty = BTreeSet::new();
    let sections: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for sec in sections {
        let b = before.get(sec).unwrap_or(&empty);
        let a = after.get(sec).unwrap_or(&empty);
        out.extend(b.difference(a).map(|i| format!("{sec}: - {i}")));
        out.extend(a.difference(b).map(|i| format!("{sec}: + {i}")));
    }
    out
}

fn json(ns: &str, cmd: &str) -> Result<Value> {
    let out = sh(ns, cmd)?;
    if out.trim().is_empty() {
        return Ok(Value::Array(vec![]));
    }
    serde_json::from_str(&out).map_err(|e| crate::LabError::Command {
        ns: ns.into(),
        command: cmd.into(),
        stderr: format!("output is not JSON: {e}"),
    })
}

fn items(v: &Value, f: impl Fn(&Value) -> Vec<Value>) -> BTreeSet<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .flat_map(f)
        .map(|x| x.to_string())
        .collect()
}

fn keep(v: &Value, keys: &[&str]) -> Vec<Value> {
    let mut o = serde_json::Map::new();
    for k in keys {
        if let Some(x) = v.get(*k) {
            o.insert((*k).to_string(), x.clone());
        }
    }
    vec![Value::Object(o)]
}

/// `counter` statements (iptables-nft writes one per rule) count traffic:
/// their values are not state.
fn zero_counters(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if let Some(c) = o.get_mut("counter").and_then(Value::as_object_mut) {
                c.insert("packets".into(), 0.into());
                c.insert("bytes".into(), 0.into());
            }
            o.values_mut().for_each(zero_counters);
        }
        Value::Array(a) => a.iter_mut().for_each(zero_counters),
        _ => {}
    }
}

fn strip(v: &mut Value, key: &str) {
    match v {
        Value::Object(o) => {
            o.remove(key);
            o.values_mut().for_each(|x| strip(x, key));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| strip(x, key)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_names_both_sides() {
        let mut a = Snapshot::new();
        a.insert("links".into(), ["x".to_string(), "y".to_string()].into());
        let mut b = Snapshot::new();
        b.insert("links".into(), ["y".to_string(), "z".to_string()].into());
        assert_eq!(diff(&a, &b), vec!["links: - x", "links: + z"]);
        assert!(diff(&a, &a).is_empty());
    }
}
