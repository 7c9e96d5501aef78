//! The route agent daemon.
//!
//! # Layout
//! - [`status`]: [`Status`], the agent's state as `/status` shows it, and the
//!   Prometheus text of `/metrics`.
//! - [`http`]: a small HTTP/1.1 server for `/healthz`, `/readyz`, `/status`,
//!   `/metrics`.
//! - [`source`]: where topologies come from: the topology file (watched), or
//!   any other [`source::TopologySource`] (Kubernetes lives in `kube-source`).
//! - [`host`]: [`host::HostOps`], the host-networking side of a pass (facts,
//!   converge, remove), implemented over `hostnet` by the binary and by a fake
//!   in tests.
//! - [`reconcile`]: one level-triggered pass: plan, converge the host, apply
//!   the packet filter (set deltas when only sets changed), verify.
//! - [`run`]: the loop: triggers (topology change, resync, drift events),
//!   backoff on errors, never exits on a host error.

pub mod host;
pub mod http;
pub mod reconcile;
pub mod run;
pub mod source;
pub mod status;

pub use reconcile::{PassOutcome, Reconciler};
pub use run::{run, RunOptions, Trigger};
pub use status::{SharedStatus, Status};

/// FNV-1a 64 of `bytes`, as 16 hex digits: the `config_digest` of `/status`.
pub fn digest(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}
