//! `/healthz`, `/readyz`, `/status`, `/metrics` over a minimal HTTP/1.1
//! server (GET only, one request per connection). Small on purpose: the
//! agent's memory target leaves no room for a web framework.

use crate::status::SharedStatus;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Extra text appended to `/metrics` (e.g. the health checker's), produced on demand.
pub type ExtraMetrics = std::sync::Arc<dyn Fn() -> String + Send + Sync>;

/// Binds `addr` and serves until the task is dropped. Returns the bound
/// address (useful with port 0).
pub async fn serve(
    addr: SocketAddr,
    status: SharedStatus,
    extra: Option<ExtraMetrics>,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                continue;
            };
            let status = status.clone();
            let extra = extra.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 2048];
                let n = match tokio::time::timeout(
                    std::time::Duration::from_secs(5),
                    sock.read(&mut buf),
                )
                .await
                {
                    Ok(Ok(n)) => n,
                    _ => return,
                };
                let req = String::from_utf8_lossy(&buf[..n]);
                let path = req.split_whitespace().nth(1).unwrap_or("/");
                let (code, ctype, body) = respond(path, &status, extra.as_ref());
                let reason = match code {
                    200 => "OK",
                    404 => "Not Found",
                    _ => "Service Unavailable",
                };
                let head = format!("HTTP/1.1 {code} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(body.as_bytes()).await;
                let _ = sock.shutdown().await;
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
) -> (u16, &'static str, String) {
    let s = status.read().unwrap_or_else(|p| p.into_inner());
    match path.split('?').next().unwrap_or("/") {
        "/healthz" => (200, "text/plain", "ok\n".into()),
        "/readyz" if s.ready && s.converged => (200, "text/plain", "ready\n".into()),
        "/readyz" => {
            let why = s.not_ready_reason.clone().unwrap_or_else(|| {
                if s.ready {
                    "not converged yet".into()
                } else {
                    "not ready".into()
                }
            });
            (503, "text/plain", format!("not ready: {why}\n"))
        }
        "/status" => (
            200,
            "application/json",
            serde_json::to_string_pretty(&*s).unwrap_or_default() + "\n",
        ),
        "/metrics" => {
            let mut m = s.metrics();
            if let Some(f) = extra {
                m.push_str(&f());
            }
            (200, "text/plain; version=0.0.4", m)
        }
        _ => (
            404,
            "text/plain",
            "not found: try /healthz /readyz /status /metrics\n".into(),
        ),
    }
}
