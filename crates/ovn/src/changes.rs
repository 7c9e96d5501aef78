//! From what is there to what is wanted: [`Changes`] (pure) and the one
//! transaction that makes them. Owned rows that match a desired object are
//! kept; the others are unreferenced from the router (OVSDB then deletes
//! them, the tables are not roots); missing objects are inserted and
//! referenced. Nothing else on the router is named in the transaction.

use std::collections::BTreeSet;

use ovsdb::value::{self, cond, insert, mutate, named_uuid, set, string_map};
use serde_json::{json, Value};

use crate::desired::{Desired, Policy, StaticRoute};
use crate::observed::{Observed, POLICIES, ROUTERS, ROUTES};

/// What one pass changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Owned policy rows to drop.
    pub remove_policies: Vec<String>,
    /// Owned static-route rows to drop.
    pub remove_routes: Vec<String>,
    /// Policies to insert.
    pub add_policies: Vec<Policy>,
    /// Static routes to insert.
    pub add_routes: Vec<StaticRoute>,
    /// Owned rows already as wanted.
    pub kept: usize,
}

impl Changes {
    /// Whether nothing needs doing.
    pub fn is_empty(&self) -> bool {
        self.remove_policies.is_empty()
            && self.remove_routes.is_empty()
            && self.add_policies.is_empty()
            && self.add_routes.is_empty()
    }
}

/// The changes that turn `observed` into `desired`. A duplicate owned row
/// (two rows for one object) is dropped, keeping one.
pub fn changes(observed: &Observed, desired: &Desired) -> Changes {
    let mut c = Changes::default();
    let (remove, add, kept) = split(&observed.policies, &desired.policies);
    c.remove_policies = remove;
    c.add_policies = add;
    c.kept += kept;
    let (remove, add, kept) = split(&observed.routes, &desired.routes);
    c.remove_routes = remove;
    c.add_routes = add;
    c.kept += kept;
    c
}

fn split<T: Ord + Clone>(
    rows: &[crate::observed::Row<T>],
    want: &BTreeSet<T>,
) -> (Vec<String>, Vec<T>, usize) {
    let mut have = BTreeSet::new();
    let mut remove = Vec::new();
    for r in rows {
        match &r.object {
            Some(o) if want.contains(o) && have.insert(o.clone()) => {}
            _ => remove.push(r.uuid.clone()),
        }
    }
    remove.sort();
    let add = want.difference(&have).cloned().collect();
    (remove, add, have.len())
}

/// The transaction for `changes` on router `router_uuid`: one `mutate`
/// removing references, the inserts, one `mutate` adding references, and a
/// comment for ovsdb-server's log. Every `mutate` must match exactly one
/// router (checked by the caller through [`mutate_counts`]).
pub fn transaction(router_uuid: &str, changes: &Changes) -> Vec<Value> {
    let router = || vec![cond("_uuid", "==", value::uuid(router_uuid))];
    let uuids = |v: &[String]| set(v.iter().map(|u| value::uuid(u)));
    let mut ops = Vec::new();
    let mut removals = Vec::new();
    if !changes.remove_policies.is_empty() {
        removals.push(json!([
            "policies",
            "delete",
            uuids(&changes.remove_policies)
        ]));
    }
    if !changes.remove_routes.is_empty() {
        removals.push(json!([
            "static_routes",
            "delete",
            uuids(&changes.remove_routes)
        ]));
    }
    if !removals.is_empty() {
        ops.push(mutate(ROUTERS, router(), removals));
    }
    let mut new_policies = Vec::new();
    for (i, p) in changes.add_policies.iter().enumerate() {
        let name = format!("policy{i}");
        ops.push(insert(POLICIES, policy_row(p), &name));
        new_policies.push(named_uuid(&name));
    }
    let mut new_routes = Vec::new();
    for (i, r) in changes.add_routes.iter().enumerate() {
        let name = format!("route{i}");
        ops.push(insert(ROUTES, route_row(r), &name));
        new_routes.push(named_uuid(&name));
    }
    let mut additions = Vec::new();
    if !new_policies.is_empty() {
        additions.push(json!(["policies", "insert", set(new_policies)]));
    }
    if !new_routes.is_empty() {
        additions.push(json!(["static_routes", "insert", set(new_routes)]));
    }
    if !additions.is_empty() {
        ops.push(mutate(ROUTERS, router(), additions));
    }
    ops.push(value::comment(&format!(
        "routeagent: +{} -{} policies, +{} -{} static routes",
        changes.add_policies.len(),
        changes.remove_policies.len(),
        changes.add_routes.len(),
        changes.remove_routes.len()
    )));
    ops
}

/// The row count of every `mutate` in a transaction's results.
pub fn mutate_counts(ops: &[Value], results: &[Value]) -> Vec<i64> {
    ops.iter()
        .zip(results)
        .filter(|(op, _)| op["op"] == "mutate")
        .map(|(_, r)| r["count"].as_i64().unwrap_or(-1))
        .collect()
}

fn ids(m: &std::collections::BTreeMap<String, String>) -> Value {
    string_map(m.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

fn policy_row(p: &Policy) -> Value {
    json!({
        "priority": p.priority,
        "match": p.match_,
        "action": "reroute",
        "nexthops": set([Value::from(p.nexthop.to_string())]),
        "external_ids": ids(&p.external_ids),
    })
}

fn route_row(r: &StaticRoute) -> Value {
    json!({
        "ip_prefix": r.ip_prefix.to_string(),
        "nexthop": r.nexthop.to_string(),
        "external_ids": ids(&r.external_ids),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::{desired, Remote};
    use crate::observed::Row;

    fn want(nh: &str, subnets: &[&str]) -> Desired {
        let r = Remote {
            cluster_id: "c2".into(),
            subnets: subnets.iter().map(|s| s.parse().unwrap()).collect(),
        };
        desired(&[r], nh.parse().unwrap())
    }

    fn observed(d: &Desired) -> Observed {
        Observed {
            router: "R".into(),
            policies: d
                .policies
                .iter()
                .enumerate()
                .map(|(i, p)| Row {
                    uuid: format!("p{i}"),
                    object: Some(p.clone()),
                })
                .collect(),
            routes: d
                .routes
                .iter()
                .enumerate()
                .map(|(i, r)| Row {
                    uuid: format!("r{i}"),
                    object: Some(r.clone()),
                })
                .collect(),
        }
    }

    #[test]
    fn converged_means_no_changes() {
        let d = want("10.128.0.2", &["10.2.0.0/16", "100.2.0.0/16"]);
        let c = changes(&observed(&d), &d);
        assert!(c.is_empty());
        assert_eq!(c.kept, 4);
        assert_eq!(transaction("R", &c).len(), 1, "only the comment");
    }

    #[test]
    fn gateway_move_replaces_every_object() {
        let before = want("10.128.0.2", &["10.2.0.0/16"]);
        let after = want("10.128.1.2", &["10.2.0.0/16"]);
        let c = changes(&observed(&before), &after);
        assert_eq!(c.remove_policies, ["p0"]);
        assert_eq!(c.remove_routes, ["r0"]);
        assert_eq!(c.add_policies.len(), 1);
        let ops = transaction("R", &c);
        let kinds: Vec<_> = ops.iter().map(|o| o["op"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["mutate", "insert", "insert", "mutate", "comment"]);
        assert_eq!(ops[1]["row"]["nexthops"], json!(["set", ["10.128.1.2"]]));
        assert_eq!(ops[0]["where"], json!([["_uuid", "==", ["uuid", "R"]]]));
    }

    #[test]
    fn edited_and_duplicate_rows_are_dropped() {
        let d = want("10.128.0.2", &["10.2.0.0/16"]);
        let mut o = observed(&d);
        o.policies.push(Row {
            uuid: "dup".into(),
            object: o.policies[0].object.clone(),
        });
        o.policies.push(Row {
            uuid: "edited".into(),
            object: None,
        });
        let c = changes(&o, &d);
        assert_eq!(c.remove_policies, ["dup", "edited"]);
        assert!(c.add_policies.is_empty());
    }
}
