//! What the northbound database holds for routeagent: the cluster router
//! and the policies and static routes on it whose `external_ids` carry the
//! owner mark, read in one transaction of `select`s. Rows without the mark
//! are never read, so nothing of OVN-Kubernetes' can be taken for ours.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use ovsdb::value::{self, cond, select, string_map};
use serde_json::Value;

use crate::desired::{Policy, StaticRoute, OWNER, OWNER_KEY};

/// The northbound database's name.
pub const DB: &str = "OVN_Northbound";
/// Table of logical routers.
pub const ROUTERS: &str = "Logical_Router";
/// Table of logical router policies.
pub const POLICIES: &str = "Logical_Router_Policy";
/// Table of logical router static routes.
pub const ROUTES: &str = "Logical_Router_Static_Route";

/// One owned row: its uuid and, if it has exactly the shape routeagent
/// writes, the object it stands for (a row someone edited into another
/// shape is `None`, and gets replaced).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row<T> {
    /// `_uuid`.
    pub uuid: String,
    /// The object, if the row is one routeagent could have written.
    pub object: Option<T>,
}

/// The router and routeagent's rows on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// The router's `_uuid`.
    pub router: String,
    /// Owned policies referenced by the router.
    pub policies: Vec<Row<Policy>>,
    /// Owned static routes referenced by the router.
    pub routes: Vec<Row<StaticRoute>>,
}

/// `external_ids includes {owner}`: the ownership condition.
pub fn owned() -> Value {
    cond("external_ids", "includes", string_map([(OWNER_KEY, OWNER)]))
}

/// The read transaction: the router by name, then owned policies and
/// routes (`ovn-nbctl find Logical_Router_Policy external_ids:submariner.io/owner=routeagent`).
pub fn read_ops(router: &str) -> Vec<Value> {
    vec![
        select(
            ROUTERS,
            vec![cond("name", "==", Value::from(router))],
            &["_uuid", "policies", "static_routes"],
        ),
        select(
            POLICIES,
            vec![owned()],
            &[
                "_uuid",
                "priority",
                "match",
                "action",
                "nexthop",
                "nexthops",
                "options",
                "external_ids",
            ],
        ),
        select(
            ROUTES,
            vec![owned()],
            &[
                "_uuid",
                "ip_prefix",
                "nexthop",
                "policy",
                "output_port",
                "route_table",
                "options",
                "external_ids",
            ],
        ),
    ]
}

/// Parses the read transaction's results. `Ok(None)`: no such router.
pub fn parse(results: &[Value]) -> ovsdb::Result<Option<Observed>> {
    let rows = |i: usize| -> ovsdb::Result<&Vec<Value>> {
        results
            .get(i)
            .and_then(|r| r.get("rows"))
            .and_then(Value::as_array)
            .ok_or_else(|| ovsdb::Error::Malformed {
                reason: format!("select result {i} has no rows array"),
            })
    };
    let Some(router) = rows(0)?.first() else {
        return Ok(None);
    };
    let uuid = value::read_uuid("_uuid", value::column(router, "_uuid")?)?;
    let refs = |col| -> ovsdb::Result<Vec<String>> {
        value::read_uuid_set(col, value::column(router, col)?)
    };
    let (policy_refs, route_refs) = (refs("policies")?, refs("static_routes")?);
    let mut policies = Vec::new();
    for row in rows(1)? {
        let uuid = value::read_uuid("_uuid", value::column(row, "_uuid")?)?;
        if policy_refs.contains(&uuid) {
            policies.push(Row {
                object: parse_policy(row)?,
                uuid,
            });
        }
    }
    let mut routes = Vec::new();
    for row in rows(2)? {
        let uuid = value::read_uuid("_uuid", value::column(row, "_uuid")?)?;
        if route_refs.contains(&uuid) {
            routes.push(Row {
                object: parse_route(row)?,
                uuid,
            });
        }
    }
    Ok(Some(Observed {
        router: uuid,
        policies,
        routes,
    }))
}

fn map(row: &Value, col: &str) -> ovsdb::Result<BTreeMap<String, String>> {
    value::read_string_map(col, value::column(row, col)?)
}

fn parse_policy(row: &Value) -> ovsdb::Result<Option<Policy>> {
    let col = |c| value::column(row, c);
    let nexthops = value::read_string_set("nexthops", col("nexthops")?)?;
    let legacy = value::read_optional_string("nexthop", col("nexthop")?)?;
    let action = value::read_string("action", col("action")?)?;
    let (Ok(nexthop), true, None, true, true) = (
        nexthops
            .first()
            .map(String::as_str)
            .unwrap_or("")
            .parse::<IpAddr>(),
        nexthops.len() == 1,
        legacy,
        action == "reroute",
        map(row, "options")?.is_empty(),
    ) else {
        return Ok(None);
    };
    Ok(Some(Policy {
        priority: value::read_integer("priority", col("priority")?)?,
        match_: value::read_string("match", col("match")?)?,
        nexthop,
        external_ids: map(row, "external_ids")?,
    }))
}

fn parse_route(row: &Value) -> ovsdb::Result<Option<StaticRoute>> {
    let col = |c| value::column(row, c);
    let plain = value::read_optional_string("policy", col("policy")?)?.is_none()
        && value::read_optional_string("output_port", col("output_port")?)?.is_none()
        && value::read_string("route_table", col("route_table")?)?.is_empty()
        && map(row, "options")?.is_empty();
    let prefix = value::read_string("ip_prefix", col("ip_prefix")?)?;
    let nexthop = value::read_string("nexthop", col("nexthop")?)?;
    let (true, Ok(ip_prefix), Ok(nexthop)) = (plain, prefix.parse(), nexthop.parse()) else {
        return Ok(None);
    };
    Ok(Some(StaticRoute {
        ip_prefix: IpNet::trunc(&ip_prefix),
        nexthop,
        external_ids: map(row, "external_ids")?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_owned_rows_on_the_router_only() {
        let results = vec![
            json!({"rows": [{"_uuid": ["uuid", "R"], "policies": ["set", [["uuid", "P1"], ["uuid", "P2"]]], "static_routes": ["uuid", "S1"]}]}),
            json!({"rows": [
                {"_uuid": ["uuid", "P1"], "priority": 20000, "match": "ip4.dst == 10.2.0.0/16", "action": "reroute",
                 "nexthop": ["set", []], "nexthops": "10.128.0.2", "options": ["map", []],
                 "external_ids": ["map", [["submariner.io/owner", "routeagent"]]]},
                {"_uuid": ["uuid", "P2"], "priority": 20000, "match": "ip4.dst == 10.3.0.0/16", "action": "drop",
                 "nexthop": ["set", []], "nexthops": ["set", []], "options": ["map", []],
                 "external_ids": ["map", [["submariner.io/owner", "routeagent"]]]},
                {"_uuid": ["uuid", "ELSEWHERE"], "priority": 1, "match": "1", "action": "allow",
                 "nexthop": ["set", []], "nexthops": ["set", []], "options": ["map", []],
                 "external_ids": ["map", []]}
            ]}),
            json!({"rows": [
                {"_uuid": ["uuid", "S1"], "ip_prefix": "10.2.0.0/16", "nexthop": "10.128.0.2", "policy": ["set", []],
                 "output_port": ["set", []], "route_table": "", "options": ["map", []],
                 "external_ids": ["map", [["submariner.io/owner", "routeagent"]]]}
            ]}),
        ];
        let o = parse(&results).unwrap().unwrap();
        assert_eq!(o.router, "R");
        assert_eq!(o.policies.len(), 2);
        assert_eq!(
            o.policies[0].object.as_ref().unwrap().match_,
            "ip4.dst == 10.2.0.0/16"
        );
        assert_eq!(
            o.policies[1].object, None,
            "a dropped policy is not ours to keep"
        );
        assert_eq!(
            o.routes[0].object.as_ref().unwrap().nexthop.to_string(),
            "10.128.0.2"
        );
    }

    #[test]
    fn no_router_and_malformed_results() {
        let empty = vec![
            json!({"rows": []}),
            json!({"rows": []}),
            json!({"rows": []}),
        ];
        assert_eq!(parse(&empty).unwrap(), None);
        let e = parse(&[json!({"rows": [{"_uuid": "R"}]})]).unwrap_err();
        assert!(e.to_string().contains("column _uuid is not a uuid"), "{e}");
        let e = parse(&[json!({"count": 1})]).unwrap_err();
        assert!(e.to_string().contains("select result 0 has no rows"), "{e}");
    }
}
