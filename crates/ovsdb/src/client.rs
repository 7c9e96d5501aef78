//! [`Client`]: one open connection and the RFC 7047 methods the agent
//! uses (`list_dbs`, `echo`, `transact`, `monitor`, `monitor_cancel`).

use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, UnixStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsConnector;

use crate::connection::{Conn, Notification};
use crate::endpoint::Endpoint;
use crate::error::{Error, Result};
use crate::tls::TlsPem;

/// How long a connection attempt may take, TLS handshake included.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a request waits for its reply by default.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// An open JSON-RPC connection to an OVSDB server. Dropping it closes the
/// connection.
pub struct Client {
    endpoint: String,
    conn: Conn,
    updates: Mutex<Option<mpsc::UnboundedReceiver<Notification>>>,
    timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.endpoint)
            .field("closed", &self.conn.closed())
            .finish()
    }
}

impl Client {
    /// Connects to `endpoint` (`ssl:` needs `tls`). Equals
    /// `ovsdb-client list-dbs ENDPOINT` up to the first request.
    pub async fn connect(endpoint: &Endpoint, tls: Option<&TlsPem>) -> Result<Client> {
        let name = endpoint.to_string();
        let conn_err = |source| Error::Connect {
            endpoint: name.clone(),
            source,
        };
        let timed_out = || std::io::Error::new(std::io::ErrorKind::TimedOut, "timed out");
        let connect =
            async {
                match endpoint {
                    Endpoint::Unix(path) => {
                        let s = UnixStream::connect(path).await.map_err(conn_err)?;
                        Ok(Client::from_stream(s, &name))
                    }
                    Endpoint::Tcp { host, port } => {
                        let s = TcpStream::connect((host.as_str(), *port))
                            .await
                            .map_err(conn_err)?;
                        let _ = s.set_nodelay(true);
                        Ok(Client::from_stream(s, &name))
                    }
                    Endpoint::Ssl { host, port } => {
                        let tls = tls.ok_or_else(|| Error::TlsFile {
                            what: "files",
                            origin: name.clone(),
                            reason: "an ssl: endpoint needs OVN_CERT, OVN_PK and OVN_CA".into(),
                        })?;
                        let connector = TlsConnector::from(tls.client_config()?);
                        let server_name = tls.server_name()?;
                        let s = TcpStream::connect((host.as_str(), *port))
                            .await
                            .map_err(conn_err)?;
                        let _ = s.set_nodelay(true);
                        let s = connector.connect(server_name, s).await.map_err(|source| {
                            Error::Tls {
                                endpoint: name.clone(),
                                source,
                            }
                        })?;
                        Ok(Client::from_stream(s, &name))
                    }
                }
            };
        tokio::time::timeout(CONNECT_TIMEOUT, connect)
            .await
            .unwrap_or_else(|_| Err(conn_err(timed_out())))
    }

    /// A client over an already open stream (tests use an in-memory pipe).
    pub fn from_stream<S>(stream: S, endpoint: &str) -> Client
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (tx, rx) = mpsc::unbounded_channel();
        Client {
            endpoint: endpoint.to_string(),
            conn: Conn::start(stream, tx),
            updates: Mutex::new(Some(rx)),
            timeout: REQUEST_TIMEOUT,
        }
    }

    /// Sets how long requests wait for their reply.
    pub fn with_timeout(mut self, timeout: Duration) -> Client {
        self.timeout = timeout;
        self
    }

    /// The endpoint this client talks to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Why the connection closed, if it did.
    pub fn closed(&self) -> Option<String> {
        self.conn.closed()
    }

    /// The channel of server notifications (`update`, `update2`, ...). It
    /// can be taken once; it ends when the connection closes.
    pub fn take_updates(&self) -> Option<mpsc::UnboundedReceiver<Notification>> {
        self.updates.lock().unwrap().take()
    }

    /// Any request; returns the reply's `result`.
    pub async fn request(&self, method: &str, params: Value) -> Result<Value> {
        self.conn.request(method, params, self.timeout).await
    }

    /// `list_dbs`: the databases the server holds (`ovsdb-client list-dbs`).
    pub async fn list_dbs(&self) -> Result<Vec<String>> {
        let r = self.request("list_dbs", json!([])).await?;
        serde_json::from_value(r.clone())
            .map_err(|_| Error::malformed("list_dbs result is not an array of strings", &r))
    }

    /// `echo`: proves the server answers.
    pub async fn echo(&self) -> Result<()> {
        let r = self.request("echo", json!(["routeagent"])).await?;
        if r != json!(["routeagent"]) {
            return Err(Error::malformed("echo did not return its params", &r));
        }
        Ok(())
    }

    /// `transact` on `db`: all `ops` take effect or none. Returns one
    /// result per operation; a refused operation (or a refused commit) is
    /// [`Error::Transaction`] naming it. Equals `ovsdb-client transact`.
    pub async fn transact(&self, db: &str, ops: Vec<Value>) -> Result<Vec<Value>> {
        let mut params = vec![json!(db)];
        params.extend(ops.iter().cloned());
        let r = self.request("transact", Value::Array(params)).await?;
        check_transact(&ops, r)
    }

    /// `monitor` on `db`: `requests` maps table names to monitor requests
    /// (`{"columns": [...]}`). Returns the initial `<table-updates>`; later
    /// changes arrive as `update` notifications tagged with `id`
    /// ([`Client::take_updates`]).
    pub async fn monitor(&self, db: &str, id: Value, requests: Value) -> Result<Value> {
        let r = self.request("monitor", json!([db, id, requests])).await?;
        if !r.is_object() {
            return Err(Error::malformed("monitor result is not an object", &r));
        }
        Ok(r)
    }

    /// `monitor_cancel` of the monitor `id`.
    pub async fn monitor_cancel(&self, id: Value) -> Result<()> {
        self.request("monitor_cancel", json!([id]))
            .await
            .map(|_| ())
    }
}

/// The per-operation results of a transaction, or the first error.
fn check_transact(ops: &[Value], r: Value) -> Result<Vec<Value>> {
    let Value::Array(results) = r else {
        return Err(Error::malformed("transact result is not an array", &r));
    };
    for (index, res) in results.iter().enumerate() {
        let Some(error) = res.get("error") else {
            continue;
        };
        let op = match ops.get(index) {
            Some(op) => format!(
                "{} {}",
                op["op"].as_str().unwrap_or("?"),
                op["table"].as_str().unwrap_or("")
            )
            .trim_end()
            .to_string(),
            None => "commit".to_string(),
        };
        return Err(Error::Transaction {
            index,
            op,
            error: error
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| error.to_string()),
            details: res
                .get("details")
                .and_then(Value::as_str)
                .map(str::to_string),
        });
    }
    if results.len() < ops.len() {
        return Err(Error::malformed(
            format!(
                "transact returned {} results for {} operations",
                results.len(),
                ops.len()
            ),
            &Value::Array(results),
        ));
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_errors_name_the_operation() {
        let ops = vec![
            json!({"op": "insert", "table": "T"}),
            json!({"op": "comment"}),
        ];
        let e = check_transact(
            &ops,
            json!([{"error": "constraint violation", "details": "x"}, null]),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "OVSDB transaction refused at operation 0 (insert T): constraint violation: x"
        );
        let e = check_transact(
            &ops,
            json!([{}, {}, {"error": "referential integrity violation"}]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("operation 2 (commit)"), "{e}");
        let e = check_transact(&ops, json!([{}])).unwrap_err();
        assert!(e.to_string().contains("1 results for 2 operations"), "{e}");
        let e = check_transact(&ops, json!({"x": 1})).unwrap_err();
        assert!(e.to_string().contains("not an array"), "{e}");
    }
}
