//! OVSDB values on the wire (RFC 7047 section 5.1) and the operations
//! (section 5.2) this client sends, built and read as `serde_json::Value`.
//! Readers are lenient about the one-element-set shortcut (a set of one
//! atom may be sent as the atom) and strict about everything else: a value
//! of the wrong shape is an [`Error::Malformed`] naming the column.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::error::{Error, Result};

/// `["uuid", "<uuid>"]`: a reference to an existing row.
pub fn uuid(u: &str) -> Value {
    json!(["uuid", u])
}

/// `["named-uuid", "<name>"]`: a row inserted earlier in the same transaction.
pub fn named_uuid(name: &str) -> Value {
    json!(["named-uuid", name])
}

/// `["set", [...]]`.
pub fn set(items: impl IntoIterator<Item = Value>) -> Value {
    json!(["set", items.into_iter().collect::<Vec<_>>()])
}

/// `["map", [[k, v], ...]]` of strings.
pub fn string_map<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Value {
    let pairs: Vec<Value> = pairs.into_iter().map(|(k, v)| json!([k, v])).collect();
    json!(["map", pairs])
}

/// A condition `[column, function, value]` (`==`, `!=`, `includes`, ...).
pub fn cond(column: &str, function: &str, value: Value) -> Value {
    json!([column, function, value])
}

/// `insert` with a `uuid-name` for later operations of the transaction.
pub fn insert(table: &str, row: Value, uuid_name: &str) -> Value {
    json!({"op": "insert", "table": table, "row": row, "uuid-name": uuid_name})
}

/// `select` of `columns` from the rows matching `conds`.
pub fn select(table: &str, conds: Vec<Value>, columns: &[&str]) -> Value {
    json!({"op": "select", "table": table, "where": conds, "columns": columns})
}

/// `delete` of the rows matching `conds`.
pub fn delete(table: &str, conds: Vec<Value>) -> Value {
    json!({"op": "delete", "table": table, "where": conds})
}

/// `mutate` of the rows matching `conds` with `[column, mutator, value]`s.
pub fn mutate(table: &str, conds: Vec<Value>, mutations: Vec<Value>) -> Value {
    json!({"op": "mutate", "table": table, "where": conds, "mutations": mutations})
}

/// `comment`: a text ovsdb-server writes to its log with the transaction.
pub fn comment(text: &str) -> Value {
    json!({"op": "comment", "comment": text})
}

fn bad(column: &str, what: &str, v: &Value) -> Error {
    Error::malformed(format!("column {column} is not {what}"), v)
}

/// The elements of a set column (an atom alone counts as a one-element set).
pub fn read_set(column: &str, v: &Value) -> Result<Vec<Value>> {
    match v.as_array().map(Vec::as_slice) {
        Some([tag, items]) if tag == "set" => items
            .as_array()
            .cloned()
            .ok_or_else(|| bad(column, "a set", v)),
        Some([tag, _]) if tag == "map" => Err(bad(column, "a set", v)),
        _ => Ok(vec![v.clone()]),
    }
}

/// A set of strings (`nexthops`, ...).
pub fn read_string_set(column: &str, v: &Value) -> Result<Vec<String>> {
    read_set(column, v)?
        .iter()
        .map(|s| {
            s.as_str()
                .map(str::to_string)
                .ok_or_else(|| bad(column, "a set of strings", v))
        })
        .collect()
}

/// An optional string (a set of zero or one string).
pub fn read_optional_string(column: &str, v: &Value) -> Result<Option<String>> {
    let mut items = read_string_set(column, v)?;
    match items.len() {
        0 => Ok(None),
        1 => Ok(items.pop()),
        _ => Err(bad(column, "at most one string", v)),
    }
}

/// A string column.
pub fn read_string(column: &str, v: &Value) -> Result<String> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| bad(column, "a string", v))
}

/// An integer column.
pub fn read_integer(column: &str, v: &Value) -> Result<i64> {
    v.as_i64().ok_or_else(|| bad(column, "an integer", v))
}

/// A `["uuid", "..."]` atom.
pub fn read_uuid(column: &str, v: &Value) -> Result<String> {
    match v.as_array().map(Vec::as_slice) {
        Some([tag, Value::String(u)]) if tag == "uuid" => Ok(u.clone()),
        _ => Err(bad(column, "a uuid", v)),
    }
}

/// A set of uuids (a reference column such as `policies`).
pub fn read_uuid_set(column: &str, v: &Value) -> Result<Vec<String>> {
    read_set(column, v)?
        .iter()
        .map(|u| read_uuid(column, u))
        .collect()
}

/// A string-to-string map (`external_ids`, `options`).
pub fn read_string_map(column: &str, v: &Value) -> Result<BTreeMap<String, String>> {
    let pairs = match v.as_array().map(Vec::as_slice) {
        Some([tag, Value::Array(pairs)]) if tag == "map" => pairs,
        _ => return Err(bad(column, "a map", v)),
    };
    pairs
        .iter()
        .map(|p| match p.as_array().map(Vec::as_slice) {
            Some([Value::String(k), Value::String(v)]) => Ok((k.clone(), v.clone())),
            _ => Err(bad(column, "a map of strings", v)),
        })
        .collect()
}

/// Column `name` of a row object, or a malformed error naming it.
pub fn column<'a>(row: &'a Value, name: &str) -> Result<&'a Value> {
    row.get(name)
        .ok_or_else(|| Error::malformed(format!("row lacks column {name}"), row))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sets_maps_and_atoms() {
        assert_eq!(
            read_string_set("nexthops", &json!("10.0.0.1")).unwrap(),
            vec!["10.0.0.1"]
        );
        assert_eq!(
            read_string_set("nexthops", &json!(["set", ["a", "b"]])).unwrap(),
            vec!["a", "b"]
        );
        assert_eq!(
            read_optional_string("nexthop", &json!(["set", []])).unwrap(),
            None
        );
        let m = read_string_map("external_ids", &json!(["map", [["k", "v"]]])).unwrap();
        assert_eq!(m["k"], "v");
        assert_eq!(
            read_uuid_set(
                "policies",
                &json!(["set", [["uuid", "u1"], ["uuid", "u2"]]])
            )
            .unwrap(),
            vec!["u1", "u2"]
        );
        assert_eq!(
            read_uuid_set("policies", &json!(["uuid", "u1"])).unwrap(),
            vec!["u1"]
        );
    }

    #[test]
    fn wrong_shapes_name_the_column() {
        let e = read_string_map("external_ids", &json!(["set", []])).unwrap_err();
        assert!(
            e.to_string().contains("column external_ids is not a map"),
            "{e}"
        );
        let e = read_uuid_set("policies", &json!(["set", ["x"]])).unwrap_err();
        assert!(
            e.to_string().contains("column policies is not a uuid"),
            "{e}"
        );
        let e = read_integer("priority", &json!("20000")).unwrap_err();
        assert!(e.to_string().contains("priority is not an integer"), "{e}");
        let e = column(&json!({}), "match").unwrap_err();
        assert!(e.to_string().contains("row lacks column match"), "{e}");
    }
}
