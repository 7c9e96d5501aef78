//! The `kubernetes` test target: the Kubernetes source, status writer and
//! health checker driven through an in-process fake API server (no real
//! kube-apiserver exists on the development and CI machines).
//!
//! - `fake`: the fake API server (a tower service for `kube::Client`).
//! - `common`: config, object builders, waiting helpers.
//! - `fake_api`: the fake's own API semantics, checked through `kube::Api`.
//! - `source`: Endpoint/Node events, gateway moves, duplicates, API errors,
//!   broken watches, resume and relist, health and grace.
//! - `status`: the RouteAgent status, with and without the subresource.
//! - `lifecycle`: RouteAgent owner, delete on stop, sysctl originals.
//! - `rbac`: Submariner's operator Role enforced by the fake (403s).
//! - `ovn_nb`: the OVN northbound database found through the API, its
//!   certificates from a Secret and a ConfigMap, under deploy/'s RBAC.
//! - `snat_exclude`: the OVN node annotation, others' entries untouched.
//! - `route_objects`: GatewayRoute / NonGatewayRoute, others' kept.
//! - `crds`: fixtures shaped like Submariner's objects; deploy/ manifests.
//! - `health`: the ICMP pinger and checker inside network namespaces.

#![allow(missing_docs)]

#[path = "kubernetes/common.rs"]
mod common;
#[path = "kubernetes/crds.rs"]
mod crds;
#[path = "kubernetes/fake/mod.rs"]
mod fake;
#[path = "kubernetes/fake_api.rs"]
mod fake_api;
#[path = "kubernetes/health.rs"]
mod health;
#[path = "kubernetes/lifecycle.rs"]
mod lifecycle;
#[path = "kubernetes/ovn_nb.rs"]
mod ovn_nb;
#[path = "kubernetes/rbac.rs"]
mod rbac;
#[path = "kubernetes/route_objects.rs"]
mod route_objects;
#[path = "kubernetes/snat_exclude.rs"]
mod snat_exclude;
#[path = "kubernetes/source.rs"]
mod source;
#[path = "kubernetes/status.rs"]
mod status;
