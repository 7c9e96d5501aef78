//! The cable fields of an Endpoint (`backend`, `backend_config`) as the
//! topology takes them: the driver's name, and the `backend_config` keys
//! the plan reads when they are valid.

use crate::crd::EndpointSpec;
use std::collections::BTreeMap;

/// The Endpoint's cable driver (`backend`), if it names one.
pub(crate) fn backend(spec: &EndpointSpec) -> Option<String> {
    let b = spec.backend.trim();
    (!b.is_empty()).then(|| b.to_string())
}

/// The `backend_config` keys the plan reads (`interface-name`, `udp-port`),
/// when valid; an invalid one is left out with a note (it must not make the
/// whole topology invalid).
pub(crate) fn backend_config(
    name: &str,
    spec: &EndpointSpec,
    notes: &mut Vec<String>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (key, ok) in [
        (
            topology::BACKEND_INTERFACE_NAME,
            (|v: &str| {
                !v.is_empty()
                    && v.len() <= topology::validate::MAX_IFNAME_LEN
                    && !v.contains(|c: char| c == '/' || c == ':' || c.is_whitespace())
            }) as fn(&str) -> bool,
        ),
        (topology::BACKEND_UDP_PORT, |v: &str| {
            v.parse::<u16>().is_ok_and(|p| p != 0)
        }),
    ] {
        let Some(v) = spec.backend_config.get(key).map(|v| v.trim()) else {
            continue;
        };
        if ok(v) {
            out.insert(key.to_string(), v.to_string());
        } else {
            notes.push(format!(
                "Endpoint {name:?}: backend_config {key}={v:?} is not valid; ignored"
            ));
        }
    }
    out
}
