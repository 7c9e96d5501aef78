//! The OVN-Kubernetes northbound side of routeagent: on the gateway, per
//! remote subnet, a priority-20000 `reroute` logical router policy and a
//! static route on `ovn_cluster_router` towards the gateway's
//! `ovn-k8s-mp0` address, so pods' traffic to remote clusters reaches the
//! gateway. routeagent's objects carry `external_ids`
//! `submariner.io/owner=routeagent`; they are found by that mark alone,
//! never by parsing match strings, so OVN-Kubernetes' own policies and
//! routes (whatever their priority) are never read, changed or removed.
//!
//! # Layout
//! - [`desired`]: pure: remote subnets + next hop -> [`Desired`].
//! - [`observed`]: the read transaction and its parsing into [`Observed`]
//!   (owned rows on the router only).
//! - [`changes`]: pure: [`Changes`] between the two, and the one write
//!   transaction.
//! - [`sync`]: [`NbSync`], the applier over a reconnecting
//!   [`ovsdb::Session`]; [`Report`].
//! - [`topo`]: [`topo::wanted`], a topology snapshot -> the runner's input.
//! - [`runner`]: [`runner::run`], the northbound side as its own task,
//!   publishing an [`NbStatus`] (`idle`, `converged`, `degraded`).
//! - [`config`]: [`NbConfig`] from `OVN_NB_DB`, `OVN_CERT`, `OVN_PK`,
//!   `OVN_CA` (or the usual socket paths); [`config::PemRef`] (files,
//!   `secret://`, `configmap://`).
//! - [`discovery`]: pure: what the Kubernetes API answered -> the
//!   endpoint, by Submariner's rules.
//! - [`doctor`]: [`doctor::probe`], what `routeagent doctor` reports.
//! - [`error`]: [`Error`], why a pass failed.

pub mod changes;
pub mod config;
pub mod desired;
pub mod discovery;
pub mod doctor;
pub mod error;
pub mod observed;
pub mod runner;
pub mod sync;
pub mod topo;

pub use changes::Changes;
pub use config::NbConfig;
pub use desired::{desired, Desired, Policy, Remote, StaticRoute};
pub use error::{Error, Result};
pub use observed::Observed;
pub use runner::NbStatus;
pub use sync::{NbSync, Report};
