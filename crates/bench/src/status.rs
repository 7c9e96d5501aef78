//! A client of an agent's `/status`, reached on 127.0.0.1 inside the
//! agent's network namespace: what the reconcile benchmark and the binary's
//! namespace tests poll until the agent has converged. (The lab checks agents
//! with its own client on purpose, as an independent oracle.)

use netns::NetNs;
use serde_json::Value;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// `curl -s http://127.0.0.1:PORT/status` inside `ns`, as JSON. An error
/// when nothing listens, the answer is not HTTP 200, or the body is not JSON.
pub fn get(ns: &NetNs, port: u16) -> io::Result<Value> {
    let raw = ns.run(|| request(port, "/status"))?;
    let text = String::from_utf8_lossy(&raw);
    let bad = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| bad(format!("GET /status: not an HTTP response: {text:.200}")))?;
    let code = head.split_whitespace().nth(1).unwrap_or("?");
    if code != "200" {
        return Err(bad(format!("GET /status: HTTP {code}: {body:.200}")));
    }
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    serde_json::from_str(&body)
        .map_err(|e| bad(format!("GET /status: body is not JSON ({e}): {body:.200}")))
}

/// One `GET PATH` on a fresh connection (`Connection: close`); the raw
/// response.
fn request(port: u16, path: &str) -> io::Result<Vec<u8>> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").as_bytes(),
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    Ok(raw)
}

/// Decodes an HTTP/1.1 chunked body.
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn chunked_bodies_decode() {
        assert_eq!(
            super::dechunk("4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n"),
            "{\"a\":1}"
        );
    }
}
