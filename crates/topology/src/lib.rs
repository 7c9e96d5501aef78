//! The topology file: which cluster this is, its nodes and gateway
//! endpoints, the remote clusters and their subnets, and tunables.
//!
//! Pure: no I/O except [`Topology::load`] reading the file it is given.
//! The format is documented in `docs/TOPOLOGY.md`; `examples/` holds files
//! that parse.
//!
//! # Layout
//! - [`model`]: the types ([`Topology`], [`LocalCluster`], [`Node`],
//!   [`Endpoint`], [`RemoteCluster`], [`Tunables`]) and their accessors.
//! - [`de`]: field deserializers that name the bad value (`"10.0.0.0/33" is
//!   not a CIDR`).
//! - [`validate`]: every rule a parsed file must satisfy; errors name the
//!   field path and the fix.
//! - [`error`] holds [`TopologyError`].

pub mod de;
pub mod error;
pub mod model;
pub mod validate;

pub use error::TopologyError;
pub use model::{Endpoint, LocalCluster, Node, RemoteCluster, Topology, Tunables};

/// Result with [`TopologyError`].
pub type Result<T, E = TopologyError> = std::result::Result<T, E>;
