//! One JSON-RPC connection: a reader task that frames messages, answers
//! the server's `echo` requests, routes replies to their callers by id and
//! notifications (`update`, `update2`, ...) to one channel; a writer task
//! that sends what callers and the reader queue. When either side fails,
//! every waiting caller gets the reason and later calls get
//! [`Error::Closed`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::framing::Framer;

/// A notification from the server: `update` (for `monitor`), `update2`
/// (`monitor_cond`), `locked`, `stolen`.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// The method (`update`, ...).
    pub method: String,
    /// Its params array.
    pub params: Value,
}

type Reply = oneshot::Sender<Result<Value>>;

#[derive(Default)]
struct State {
    pending: HashMap<u64, (String, Reply)>,
    closed: Option<String>,
}

pub(crate) struct Conn {
    state: Arc<Mutex<State>>,
    out: mpsc::UnboundedSender<Vec<u8>>,
    next_id: AtomicU64,
    tasks: [JoinHandle<()>; 2],
}

impl Drop for Conn {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Conn {
    /// Starts the reader and writer tasks on `stream`.
    pub(crate) fn start<S>(stream: S, notify: mpsc::UnboundedSender<Notification>) -> Conn
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (rd, wr) = tokio::io::split(stream);
        let state = Arc::new(Mutex::new(State::default()));
        let (out, out_rx) = mpsc::unbounded_channel();
        let reader = tokio::spawn(read_loop(rd, state.clone(), out.clone(), notify));
        let writer = tokio::spawn(write_loop(wr, out_rx, state.clone()));
        Conn {
            state,
            out,
            next_id: AtomicU64::new(1),
            tasks: [reader, writer],
        }
    }

    /// Why the connection closed, if it did.
    pub(crate) fn closed(&self) -> Option<String> {
        self.state.lock().unwrap().closed.clone()
    }

    /// Sends one request and waits for its reply's `result`.
    pub(crate) async fn request(
        &self,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        {
            let mut st = self.state.lock().unwrap();
            if let Some(reason) = &st.closed {
                return Err(Error::Closed {
                    reason: reason.clone(),
                });
            }
            st.pending.insert(id, (method.to_string(), tx));
        }
        let msg = json!({"method": method, "params": params, "id": id});
        tracing::trace!(%msg, "ovsdb request");
        // A failed send means the writer is gone; the pending entry is then
        // answered by `close`.
        let _ = self.out.send(msg.to_string().into_bytes());
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(_)) => Err(Error::Closed {
                reason: self.closed().unwrap_or_else(|| "connection dropped".into()),
            }),
            Err(_) => {
                self.state.lock().unwrap().pending.remove(&id);
                Err(Error::Timeout {
                    method: method.to_string(),
                    timeout,
                })
            }
        }
    }
}

/// Marks the connection closed and fails every waiting caller.
fn close(state: &Mutex<State>, err: Error) {
    let mut st = state.lock().unwrap();
    if st.closed.is_some() {
        return;
    }
    let reason = errchain::Chain(&err).to_string();
    tracing::debug!(%reason, "ovsdb connection closed");
    for (_, (_, tx)) in st.pending.drain() {
        let e = match &err {
            Error::Malformed { reason } => Error::Malformed {
                reason: reason.clone(),
            },
            _ => Error::Closed {
                reason: reason.clone(),
            },
        };
        let _ = tx.send(Err(e));
    }
    st.closed = Some(reason);
}

async fn write_loop<W: AsyncWrite>(
    wr: W,
    mut rx: mpsc::UnboundedReceiver<Vec<u8>>,
    state: Arc<Mutex<State>>,
) {
    let mut wr = std::pin::pin!(wr);
    while let Some(bytes) = rx.recv().await {
        let res = async {
            wr.write_all(&bytes).await?;
            wr.flush().await
        }
        .await;
        if let Err(e) = res {
            close(&state, Error::Io(e));
            return;
        }
    }
}

async fn read_loop<R: AsyncRead>(
    rd: R,
    state: Arc<Mutex<State>>,
    out: mpsc::UnboundedSender<Vec<u8>>,
    notify: mpsc::UnboundedSender<Notification>,
) {
    let mut rd = std::pin::pin!(rd);
    let mut framer = Framer::default();
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = match rd.read(&mut buf).await {
            Ok(0) => {
                let reason = "the server closed the connection".to_string();
                close(&state, Error::Closed { reason });
                return;
            }
            Ok(n) => n,
            Err(e) => {
                close(&state, Error::Io(e));
                return;
            }
        };
        let msgs = match framer.push(&buf[..n]) {
            Ok(m) => m,
            Err(e) => {
                close(&state, e);
                return;
            }
        };
        for msg in msgs {
            dispatch(msg, &state, &out, &notify);
        }
    }
}

/// Routes one message: a reply to its caller, `echo` answered, a
/// notification to the channel. Messages that fit nothing are logged.
fn dispatch(
    msg: Value,
    state: &Mutex<State>,
    out: &mpsc::UnboundedSender<Vec<u8>>,
    notify: &mpsc::UnboundedSender<Notification>,
) {
    tracing::trace!(%msg, "ovsdb message");
    if let Some(method) = msg.get("method").and_then(Value::as_str) {
        let params = msg.get("params").cloned().unwrap_or(Value::Null);
        match msg.get("id") {
            Some(id) if !id.is_null() => {
                let reply = if method == "echo" {
                    json!({"id": id, "result": params, "error": null})
                } else {
                    json!({"id": id, "result": null, "error": format!("unknown method {method}")})
                };
                let _ = out.send(reply.to_string().into_bytes());
            }
            _ => {
                let _ = notify.send(Notification {
                    method: method.to_string(),
                    params,
                });
            }
        }
        return;
    }
    let Some(id) = msg.get("id").and_then(Value::as_u64) else {
        tracing::warn!(%msg, "ignoring an OVSDB message that is neither a request nor a reply to us");
        return;
    };
    let Some((method, tx)) = state.lock().unwrap().pending.remove(&id) else {
        tracing::debug!(id, "reply to a request no longer waited for");
        return;
    };
    let _ = tx.send(reply_result(&method, &msg));
}

/// The `result` of a reply, or its `error` as [`Error::Rpc`].
fn reply_result(method: &str, msg: &Value) -> Result<Value> {
    match (msg.get("result"), msg.get("error")) {
        (_, Some(err)) if !err.is_null() => Err(Error::Rpc {
            method: method.to_string(),
            error: err.to_string(),
        }),
        (Some(result), _) => Ok(result.clone()),
        (None, _) => Err(Error::malformed(
            format!("reply to {method} has neither result nor error"),
            msg,
        )),
    }
}
