//! `/healthz`, `/readyz`, `/status`, `/metrics` over HTTP/1.1 (hyper), with
//! a bound on concurrent connections and on how long a client may take to
//! send its request head.

use crate::metrics::{self, ExtraMetrics};
use crate::status::SharedStatus;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Connections served at once; further ones wait in the listen backlog.
pub const MAX_CONNECTIONS: usize = 32;

/// How long a client may take to send its request head.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// Binds `addr` and serves until the task is dropped. Returns the bound
/// address (useful with port 0).
pub async fn serve(
    addr: SocketAddr,
    status: SharedStatus,
    extra: Option<ExtraMetrics>,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let task = tokio::spawn(async move {
        loop {
            let Ok(permit) = permits.clone().acquire_owned().await else {
                return;
            };
            let Ok((sock, _)) = listener.accept().await else {
                continue;
            };
            let (status, extra) = (status.clone(), extra.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let (code, ctype, body) = respond(req.uri().path(), &status, extra.as_ref());
                    let resp = Response::builder()
                        .status(code)
                        .header(hyper::header::CONTENT_TYPE, ctype)
                        .body(Full::new(Bytes::from(body)));
                    async move { resp }
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEADER_TIMEOUT)
                    .keep_alive(false)
                    .serve_connection(TokioIo::new(sock), service);
                if let Err(e) = conn.await {
                    tracing::debug!(error = %e, "HTTP connection ended with an error");
                }
                drop(permit);
            });
        }
    });
    Ok((local, task))
}

/// The response for `path`: (status code, content type, body).
pub fn respond(
    path: &str,
    status: &SharedStatus,
    extra: Option<&ExtraMetrics>,
) -> (StatusCode, &'static str, String) {
    let s = status.read().unwrap_or_else(|p| p.into_inner());
    match path {
        "/healthz" => (StatusCode::OK, "text/plain", "ok\n".into()),
        "/readyz" if s.ready && s.converged => (StatusCode::OK, "text/plain", "ready\n".into()),
        "/readyz" => {
            let why = s.not_ready_reason.clone().unwrap_or_else(|| {
                if s.ready {
                    "not converged yet".into()
                } else {
                    "not ready".into()
                }
            });
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain",
                format!("not ready: {why}\n"),
            )
        }
        "/status" => (
            StatusCode::OK,
            "application/json",
            serde_json::to_string_pretty(&*s).unwrap_or_default() + "\n",
        ),
        "/metrics" => (
            StatusCode::OK,
            metrics::CONTENT_TYPE,
            metrics::encode(&s, extra),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found: try /healthz /readyz /status /metrics\n".into(),
        ),
    }
}
