//! Validation of the cable fields: Endpoint `backend` and `backendConfig`,
//! and their agreement with `cluster.cable`; interface names.

use crate::validate::{err, MAX_IFNAME_LEN};
use crate::{Endpoint, Result, Topology, BACKEND_UDP_PORT};
use std::fmt::Display;

/// `backend` is not empty; `backendConfig.interface-name` is an interface
/// name and `backendConfig.udp-port` a port.
pub(crate) fn endpoint_backend(path: impl Display, e: &Endpoint) -> Result<()> {
    if e.backend.as_deref().is_some_and(str::is_empty) {
        return err(
            format!("{path}.backend"),
            "is empty; write the cable driver (libreswan, wireguard, vxlan) or leave it out",
        );
    }
    if let Some(name) = e.interface_name() {
        ifname(format_args!("{path}.backendConfig.interface-name"), name)?;
    }
    if let Some(port) = e.backend_config.get(BACKEND_UDP_PORT) {
        if !port.trim().parse::<u16>().is_ok_and(|p| p != 0) {
            return err(
                format!("{path}.backendConfig.udp-port"),
                format!(
                    "{port:?} is not a UDP port; use 1 to 65535 (Submariner's default is 4500)"
                ),
            );
        }
    }
    Ok(())
}

/// With `cluster.cable` set, the active gateway and every remote gateway
/// run that same cable (or leave `backend` out).
pub(crate) fn cable_backend(t: &Topology, path: impl Display, e: &Endpoint) -> Result<()> {
    let (Some(cable), Some(backend)) = (t.cluster.cable, e.backend.as_deref()) else {
        return Ok(());
    };
    if backend == cable.as_str() {
        return Ok(());
    }
    err(
        format!("{path}.backend"),
        format!("is {backend:?} but cluster.cable is {:?}: routeagent's own cable only connects to gateways running the same cable; write backend: {}, or remove cluster.cable to use an external cable", cable.as_str(), cable.as_str()),
    )
}

/// An interface name: 1 to [`MAX_IFNAME_LEN`] bytes, no `/`, `:`, quotes
/// or whitespace.
pub(crate) fn ifname(path: impl Display, name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > MAX_IFNAME_LEN
        || name.contains(|ch: char| {
            ch == '/' || ch == ':' || ch == '"' || ch.is_whitespace() || ch.is_control()
        })
    {
        return err(
            path.to_string(),
            format!("{name:?} is not an interface name; use 1 to {MAX_IFNAME_LEN} bytes without '/', ':', quotes or spaces"),
        );
    }
    Ok(())
}
