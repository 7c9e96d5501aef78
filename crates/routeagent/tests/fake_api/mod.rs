//! The kube-source tests' fake API server, served over HTTP/1.1 on a node
//! namespace's loopback for a routeagent process started in Kubernetes
//! mode, and the kubeconfig naming it (the fake has no TLS, so no
//! in-cluster configuration).
#![allow(dead_code)]

#[allow(dead_code, missing_docs, clippy::all)]
#[path = "../../../kube-source/tests/kubernetes/fake/mod.rs"]
pub mod fake;

use fake::FakeApi;
use http_body_util::BodyExt;
use netns::NetNs;
use std::path::{Path, PathBuf};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One request to the fake, from hyper's side.
async fn handle(
    mut fake: FakeApi,
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<http::Response<fake::http::Body>, BoxError> {
    let (parts, body) = req.into_parts();
    let bytes = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return Err(Box::new(e)),
    };
    let req = http::Request::from_parts(parts, kube::client::Body::from(bytes.to_vec()));
    tower::Service::call(&mut fake, req).await
}

/// Serves `fake` over HTTP/1.1 on `listener` (bound in the node namespace)
/// from a thread of its own.
pub fn serve(fake: FakeApi, listener: std::net::TcpListener) {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let local = tokio::task::LocalSet::new();
        local.block_on(&rt, async move {
            listener.set_nonblocking(true).unwrap();
            let l = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((s, _)) = l.accept().await else { return };
                let fake = fake.clone();
                tokio::task::spawn_local(async move {
                    let svc = hyper::service::service_fn(move |req| handle(fake.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(s), svc)
                        .await;
                });
            }
        });
    });
}

/// Serves `fake` on a free port of `ns`'s loopback and writes, in `dir`, a
/// kubeconfig naming it (default namespace `namespace`); returns its path.
pub fn serve_in(ns: &NetNs, fake: &FakeApi, dir: &Path, namespace: &str) -> PathBuf {
    let listener = ns
        .run(|| std::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    serve(fake.clone(), listener);
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!("apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: http://127.0.0.1:{port}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: agent\n    namespace: {namespace}\ncurrent-context: fake\nusers:\n- name: agent\n  user:\n    token: fake\n"),
    )
    .unwrap();
    kubeconfig
}

/// Submariner's `Endpoint` as the API server holds it (its JSON field
/// names): cluster `cluster`'s gateway `host` in namespace `ns`, libreswan.
pub fn endpoint_json(
    ns: &str,
    cluster: &str,
    host: &str,
    private: &str,
    public: &str,
    subnets: &[&str],
) -> serde_json::Value {
    serde_json::json!({"apiVersion": "submariner.io/v1", "kind": "Endpoint",
        "metadata": {"name": format!("{cluster}-{host}"), "namespace": ns},
        "spec": {"cluster_id": cluster, "cable_name": format!("submariner-cable-{cluster}-{host}"),
            "hostname": host, "private_ip": private, "public_ip": public, "nat_enabled": false,
            "backend": "libreswan", "backend_config": {}, "healthCheckIP": "", "subnets": subnets}})
}
