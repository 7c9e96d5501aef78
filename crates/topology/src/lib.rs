//! The topology file: which cluster this is, its nodes and gateway
//! endpoints, the remote clusters and their subnets, and tunables.
//!
//! Pure: no I/O except [`Topology::load`] reading the file it is given.
//! The format is documented in `docs/TOPOLOGY.md`; `examples/` holds files
//! that parse.
//!
//! # Layout
//! - [`cni`]: [`Cni`], the network plugin (`cluster.cni`), and
//!   [`Cni::datapath`], which datapath the agent programs for it (or none).
//! - [`model`]: the types ([`Topology`], [`LocalCluster`], [`CableKind`],
//!   [`Node`], [`Endpoint`], [`RemoteCluster`], [`Tunables`]) and their
//!   accessors.
//! - [`ovn`]: [`OvnNode`], OVN-Kubernetes' facts about a node (zone,
//!   transit switch address, gateway mode).
//! - [`de`]: field deserializers that name the bad value (`"10.0.0.0/33" is
//!   not a CIDR`).
//! - [`validate`]: every rule a parsed file must satisfy; errors name the
//!   field path and the fix.
//! - `backend`: the checks of the cable fields (Endpoint `backend`,
//!   `backendConfig`, and `cluster.cable`).
//! - [`error`] holds [`TopologyError`].
//! - [`incremental`]: [`incremental::Parser`], which re-parses a file only
//!   where it changed (the file source's watcher).
//! - [`digest`]: the `config_digest` of a topology source's bytes, as
//!   `/status` reports it.

mod backend;
pub mod cni;
pub mod de;
pub mod error;
pub mod incremental;
pub mod model;
pub mod ovn;
pub mod validate;

pub use cni::{Cni, Datapath, UnsupportedDatapath};
pub use error::TopologyError;
pub use model::{
    CableKind, Endpoint, LocalCluster, Node, RemoteCluster, Topology, Tunables,
    BACKEND_INTERFACE_NAME, BACKEND_UDP_PORT,
};
pub use ovn::{GatewayMode, OvnNode};

/// Result with [`TopologyError`].
pub type Result<T, E = TopologyError> = std::result::Result<T, E>;

/// FNV-1a 64 of `bytes`, as 16 hex digits: the `config_digest` that
/// `/status` reports for the topology source the agent acts on (the file's
/// bytes, or the JSON of a Kubernetes-built topology). Tools that wait for an
/// agent to converge on a file compute the same digest of it.
pub fn digest(bytes: &[u8]) -> String {
    format!("{:016x}", fnv1a(bytes))
}

/// FNV-1a 64 of `bytes`.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn digest_is_fnv1a_64() {
        assert_eq!(super::digest(b""), "cbf29ce484222325");
        assert_eq!(super::digest(b"a"), "af63dc4c8601ec8c");
    }
}
