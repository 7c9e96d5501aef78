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
//! - [`mod@ovn`]: [`crate::ovn::OvnSide`], the OVN datapath's northbound side (a task
//!   of its own, started by the first OVN pass; its status in `/status`).
//! - [`takeover`]: [`takeover::Takeover`], taking a node over from
//!   Submariner's Go route agent (run by a pass until done).
//! - [`uninstall`](mod@uninstall): removes everything the agent owns.

pub mod error;
pub mod host;
pub mod http;
pub mod metrics;
pub mod ovn;
pub mod reconcile;
pub mod run;
pub mod source;
pub mod status;
pub mod takeover;
pub mod uninstall;

pub use error::Error;
pub use reconcile::{PassOutcome, Reconciler};
pub use run::{run, Agent, RunOptions, Trigger};
pub use status::{SharedStatus, Status};
pub use topology::digest;
pub use uninstall::{uninstall, Uninstalled};
