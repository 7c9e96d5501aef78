//! The Kubernetes source of routeagent: a drop-in for Submariner's route
//! agent DaemonSet. It watches Submariner's `Endpoint`s and the cluster's
//! `Node`s, builds the same [`topology::Topology`] the file source reads,
//! writes one `RouteAgent` status per node, and health-checks the remote
//! gateways.
//!
//! # Layout
//! - [`config`]: [`KubeConfig`] from Submariner's variables (`SUBMARINER_*`,
//!   `NODE_NAME`); errors name the variable and the fix.
//! - [`crd`]: `submariner.io/v1` `Endpoint` and `RouteAgent` types with
//!   Submariner's JSON field names.
//! - [`build`]: the pure [`build_topology`] (gateway detection, newest
//!   Endpoint per remote cluster, bad objects skipped and named).
//! - `backend`: an Endpoint's `backend` and `backend_config` as the
//!   topology takes them (the cable is the gateway engine's).
//! - [`source`]: [`start`]: watchers + reflector stores -> [`SourceState`]
//!   snapshots on a `tokio::sync::watch` channel; backoff, resume, grace.
//! - [`status`]: [`StatusWriter`]: this node's `RouteAgent` status.
//! - [`ovn_node`]: [`ovn_node::ovn_node`], OVN-Kubernetes' node annotations
//!   (zone, transit switch address, gateway mode) on the OVN datapath.
//! - [`route_objects`]: Submariner's `GatewayRoute` / `NonGatewayRoute`
//!   objects the OVN gateway writes ([`route_objects::RouteObjects`]).
//! - [`snat_exclude`]: [`snat_exclude::SnatExclude`], the node annotation
//!   `k8s.ovn.org/node-ingress-snat-exclude-subnets` on the OVN datapath.
//! - [`ovn_nb`]: [`ovn_nb::nb_config`], the OVN northbound database found
//!   as Submariner does (`OVN_NB_DB`, else discovery through the API) and
//!   [`ovn_nb::ApiTls`], its certificates from Secrets and ConfigMaps.
//! - [`health`]: [`health::HealthChecker`]: ICMP pings to remote gateways,
//!   results for the status and `/metrics`.

mod backend;
pub mod build;
pub mod config;
pub mod crd;
pub mod health;
pub mod ovn_nb;
pub mod ovn_node;
pub mod route_objects;
pub mod snat_exclude;
pub mod source;
pub mod status;

pub use build::{build_topology, BuildError, Built, Skipped};
pub use config::{ConfigError, HealthCheckConfig, KubeConfig};
pub use source::{client, client_in, start, wait_for_node, ClientError, SourceState};
pub use status::{
    AgentReport, RemoteHealth, StatusError, StatusWriter, SYSCTL_ORIGINALS_ANNOTATION,
};

#[cfg(test)]
mod build_tests;
