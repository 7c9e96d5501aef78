//! The route agent daemon.
//!
//! # Layout
//! - [`error`]: [`Error`], what can go wrong at the host and packet-filter
//!   boundary (shown with its causes through `errchain::Chain`).
//! - [`status`]: [`Status`], the agent's state as `/status` shows it; every
//!   change is one of its methods.
//! - [`metrics`]: the `/metrics` exposition (prometheus-client).
//! - [`http`]: `/healthz`, `/readyz`, `/status`, `/metrics` over hyper.
//! - [`source`]: where topologies come from: the topology file (watched), or
//!   any other [`source::TopologySource`] (Kubernetes lives in `kube-source`).
//! - [`host`]: [`host::HostOps`], the host-networking side of a pass (facts,
//!   converge, remove), implemented over `hostnet` by the binary and by a fake
//!   in tests; [`host::Drift`], what the host monitor reports.
//! - [`reconcile`]: one level-triggered pass: plan, converge the host, apply
//!   the packet filter (set deltas when only sets changed), verify.
//! - [`run`]: the loop: it only schedules (topology change, resync, drift,
//!   backoff after errors) and never exits on a host error.
//! - [`uninstall`](mod@uninstall): removes everything the agent owns.

pub mod error;
pub mod host;
pub mod http;
pub mod metrics;
pub mod reconcile;
pub mod run;
pub mod source;
pub mod status;
pub mod uninstall;

pub use error::Error;
pub use reconcile::{PassOutcome, Reconciler};
pub use run::{run, Agent, RunOptions, Trigger};
pub use status::{SharedStatus, Status};
pub use uninstall::{uninstall, Uninstalled};

/// FNV-1a 64 of `bytes`, as 16 hex digits: the `config_digest` of `/status`.
pub fn digest(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}
